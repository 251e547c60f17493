// The peer monitor (dcmanager's peer_monitor_manager, spec §3.5): every system peer that an association names is sent
// a heartbeat every `heartbeat_interval` seconds: GET /v1.0/subcloud-peer-groups on the peer's dcmanager endpoint,
// signed in with the peer's manager credentials (adapters/peer). What it decides is recorded as events:
//
// - after `heartbeat_failure_threshold` failed heartbeats in a row the peer becomes `unavailable`
//   (SystemPeerAvailabilityChanged), alarm 280.004 is raised (MAJOR, or CRITICAL naming the peer groups that peer
//   leads), and each primary association with it moves as R24.03 moves it: in-sync or unknown to `unknown`, anything
//   else to `failed`, with the message "Peer site (<name>) is unreachable.". As in dcmanager the count then starts
//   again, so while the peer stays down this repeats every threshold failures (and, being unchanged, appends nothing);
// - the first heartbeat answered makes the peer `available` and clears the alarm; coming back from `unavailable`,
//   each primary association becomes `in-sync` if it was `unknown`, `out-of-sync` otherwise (R24.03). A peer's first
//   answer after it was created only makes it `available`: its associations are the sync workflow's then.
//
// The count of failures lives in memory, as dcmanager's does: a restart starts it from zero.
//
// Scheduling: a one-second ticker sends each peer its heartbeat once `heartbeat_interval` has passed on the injected
// clock since its last one (the first at once, as at HEAD); a peer's heartbeats never overlap. runCycle() sends every
// monitored peer one heartbeat now (tests).
import type { Logger } from 'pino';
import type { PeerDirectory } from '../adapters/peer/peerDirectory.js';
import { systemContext } from '../commands/core/context.js';
import type { FaultAlarmCommands } from '../commands/distcloud/faultAlarms.js';
import type { PeerGroupAssociationCommands } from '../commands/distcloud/peerGroupAssociations.js';
import type { SubcloudPeerGroupCommands } from '../commands/distcloud/subcloudPeerGroups.js';
import type { SystemPeerCommands } from '../commands/distcloud/systemPeers.js';
import { COLLECTIONS } from '../domain/distcloud/collections.js';
import type { LocalSystem } from '../domain/distcloud/localSystem.js';
import { ALARM_IDS, peerHeartbeatAlarm } from '../domain/distcloud/faultAlarm.js';
import {
  NO_SYNC_MESSAGE,
  peerUnreachableMessage,
  statusWhenPeerBack,
  statusWhenPeerUnreachable,
} from '../domain/distcloud/peerGroupAssociation.js';
import type { PeerGroupAssociationDoc } from '../projections/distcloud/peerGroupAssociations.js';
import type { SubcloudPeerGroupDoc } from '../projections/distcloud/subcloudPeerGroups.js';
import type { SystemPeerDoc } from '../projections/distcloud/systemPeers.js';
import { createPeerGroupAuditor, type PeerGroupAuditor, type RemotePeerGroup } from './peerGroupAudit.js';
import type { Workflow, WorkflowDeps } from './workflow.js';

export const PEER_MONITOR = 'peer-monitor';

export interface GeoWorkflowDeps {
  peers: Pick<SystemPeerCommands, 'recordAvailability'>;
  associations: Pick<PeerGroupAssociationCommands, 'setSyncStatus' | 'markGroupSyncStatus'>;
  /** Migrations and the audit: leader, migration status. */
  peerGroups: Pick<SubcloudPeerGroupCommands, 'completeMigration' | 'changeLeader' | 'setMigrationStatus' | 'load'>;
  alarms: FaultAlarmCommands;
  directory: PeerDirectory;
  /** This site's UUID and name (the sync workflow asks the peer for its system peer of this site). */
  localSystem: () => LocalSystem;
  /** The peer group audit, shared by the monitor and PATCH /subcloud-peer-groups/{ref}/audit (default: the monitor's own). */
  auditor?: PeerGroupAuditor;
}

export interface HeartbeatResult {
  peerId: number;
  answered: boolean;
  /** Failures in a row counted after this heartbeat (0 after an answer, or once the threshold was acted on). */
  failures: number;
}

export interface PeerMonitor extends Workflow {
  /** One heartbeat to every monitored peer, now. */
  runCycle(): Promise<HeartbeatResult[]>;
}

export function createPeerMonitor(deps: WorkflowDeps, options: { heartbeatTimeoutMs?: number } = {}): PeerMonitor {
  const { readStore, clock } = deps;
  const geo = deps.geo;
  const logger: Logger = deps.logger.child({ workflow: PEER_MONITOR });
  const timeoutMs = options.heartbeatTimeoutMs ?? 10_000;
  const failures = new Map<number, number>();
  const lastBeat = new Map<number, number>();
  const inFlight = new Map<number, Promise<HeartbeatResult>>();
  const scale = deps.settings.timeScale ?? 1;
  /** dcmanager's require_audit_flag, per (peer, local group): set at first and whenever the peer was lost. */
  const auditNeeded = new Map<string, boolean>();
  const audits = new Set<Promise<unknown>>();
  let auditor: PeerGroupAuditor | undefined;
  let ticker: NodeJS.Timeout | undefined;
  const ctx = () => systemContext(clock.now(), PEER_MONITOR);

  /** The peers some association names, as their read model has them. */
  async function monitoredPeers(): Promise<SystemPeerDoc[]> {
    const associations = await readStore.find<PeerGroupAssociationDoc>(COLLECTIONS.peerGroupAssociations, {});
    const ids = [...new Set(associations.map((a) => a.systemPeerId))];
    return ids.length ? readStore.find<SystemPeerDoc>(COLLECTIONS.systemPeers, { id: { $in: ids } }, { sort: { id: 1 } }) : [];
  }

  const primaryAssociations = (peerId: number) =>
    readStore.find<PeerGroupAssociationDoc>(COLLECTIONS.peerGroupAssociations, { systemPeerId: peerId, associationType: 'primary' }, { sort: { id: 1 } });

  /** The peer's groups when it answered the heartbeat; undefined when it did not. */
  async function answers(peer: SystemPeerDoc): Promise<RemotePeerGroup[] | undefined> {
    try {
      const r = await geo!.directory.sessionFor(peer).call('GET', '/subcloud-peer-groups', undefined, { timeoutMs });
      if (r.status !== 200) logger.info({ peer: peer.peerName, status: r.status }, 'heartbeat answered with an error');
      if (r.status !== 200) return undefined;
      return ((r.json as { subcloud_peer_groups?: RemotePeerGroup[] } | undefined)?.subcloud_peer_groups ?? []);
    } catch (err) {
      logger.info({ peer: peer.peerName, err: (err as Error).message }, 'heartbeat failed');
      return undefined;
    }
  }

  /** The local groups associated with this peer. */
  async function sharedGroups(peer: SystemPeerDoc): Promise<SubcloudPeerGroupDoc[]> {
    const associations = await readStore.find<PeerGroupAssociationDoc>(COLLECTIONS.peerGroupAssociations, { systemPeerId: peer.id });
    const ids = [...new Set(associations.map((a) => a.peerGroupId))];
    return ids.length ? readStore.find<SubcloudPeerGroupDoc>(COLLECTIONS.subcloudPeerGroups, { id: { $in: ids } }, { sort: { id: 1 } }) : [];
  }

  /** After an answer (spec §3.5): audit each shared group the peer has by name, when flagged or its migration completed. */
  async function auditShared(peer: SystemPeerDoc, remoteGroups: RemotePeerGroup[]) {
    for (const local of await sharedGroups(peer)) {
      const key = `${peer.id}:${local.id}`;
      const remote = remoteGroups.find((g) => g.peer_group_name === local.peerGroupName);
      if (!remote) {
        logger.warn({ peer: peer.peerName, peerGroup: local.peerGroupName }, `peer group ${local.peerGroupName} not found on remote DC ${peer.peerName} nothing to audit, need sync operation`);
        continue;
      }
      if (auditNeeded.get(key) === false && remote.migration_status !== 'complete') continue;
      auditor ??= geo!.auditor ?? createPeerGroupAuditor(deps);
      const p = auditor
        .audit(peer, remote, local)
        .then(() => auditNeeded.set(key, false))
        .catch((err: unknown) => logger.warn({ err, peer: peer.peerName, peerGroup: local.peerGroupName }, 'peer group audit failed; retried at the next heartbeat'))
        .finally(() => audits.delete(p));
      audits.add(p);
    }
  }

  async function peerLost(peer: SystemPeerDoc) {
    for (const g of await sharedGroups(peer)) auditNeeded.set(`${peer.id}:${g.id}`, true);
    const led = await readStore.find<SubcloudPeerGroupDoc>(COLLECTIONS.subcloudPeerGroups, { systemLeaderId: peer.peerUuid }, { sort: { id: 1 } });
    await geo!.alarms.raise({ alarmId: ALARM_IDS.peerHeartbeatFailed, ...peerHeartbeatAlarm(peer, led.map((g) => g.peerGroupName)) }, ctx());
    await geo!.peers.recordAvailability(peer.id, 'unavailable', ctx());
    for (const a of await primaryAssociations(peer.id)) {
      await geo!.associations.setSyncStatus(a.id, statusWhenPeerUnreachable(a.syncStatus), peerUnreachableMessage(peer.peerName), ctx());
    }
  }

  async function peerBack(peer: SystemPeerDoc) {
    await geo!.peers.recordAvailability(peer.id, 'available', ctx());
    if (peer.availabilityState === 'unavailable') {
      for (const a of await primaryAssociations(peer.id)) {
        await geo!.associations.setSyncStatus(a.id, statusWhenPeerBack(a.syncStatus), NO_SYNC_MESSAGE, ctx());
      }
    }
    await geo!.alarms.clear(ALARM_IDS.peerHeartbeatFailed, `peer=${peer.peerUuid}`, ctx());
  }

  async function heartbeat(peer: SystemPeerDoc): Promise<HeartbeatResult> {
    lastBeat.set(peer.id, clock.now().getTime());
    const remoteGroups = await answers(peer);
    if (remoteGroups) {
      failures.set(peer.id, 0);
      if (peer.availabilityState !== 'available') await peerBack(peer);
      await auditShared(peer, remoteGroups);
      return { peerId: peer.id, answered: true, failures: 0 };
    }
    let count = (failures.get(peer.id) ?? 0) + 1;
    if (count >= peer.heartbeatFailureThreshold) {
      await peerLost(peer);
      count = 0;
    }
    failures.set(peer.id, count);
    return { peerId: peer.id, answered: false, failures: count };
  }

  /** One heartbeat for this peer, unless one is already on its way (then that one's result). */
  function beat(peer: SystemPeerDoc): Promise<HeartbeatResult> {
    const running = inFlight.get(peer.id);
    if (running) return running;
    const p = heartbeat(peer).finally(() => inFlight.delete(peer.id));
    inFlight.set(peer.id, p);
    return p;
  }

  async function tick() {
    const now = clock.now().getTime();
    for (const peer of await monitoredPeers()) {
      const last = lastBeat.get(peer.id);
      if (last === undefined || now - last >= peer.heartbeatInterval * 1_000 * scale) {
        beat(peer).catch((err) => logger.error({ err, peer: peer.peerName }, 'heartbeat could not be recorded'));
      }
    }
  }

  return {
    name: PEER_MONITOR,
    async start() {
      if (!geo) return;
      // Once a second, or faster when WORKFLOW_TIME_SCALE shortens the intervals (never under 20 ms).
      const period = Math.max(20, Math.min(1_000, 5_000 * scale));
      ticker = setInterval(() => void tick().catch((err) => logger.error({ err }, 'peer monitor tick failed')), period);
      ticker.unref();
    },
    async stop() {
      if (ticker) clearInterval(ticker);
      ticker = undefined;
      await Promise.allSettled([...inFlight.values()]);
      await Promise.allSettled([...audits]);
    },
    async runCycle() {
      if (!geo) return [];
      return Promise.all((await monitoredPeers()).map(beat));
    },
  };
}

export const peerMonitor = (deps: WorkflowDeps): Workflow => createPeerMonitor(deps);
