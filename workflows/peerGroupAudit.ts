// The peer group audit (dcmanager's peer_group_audit_manager, spec §3.1, §3.2, §3.4): this site's copy of a peer
// group brought in line with what the peer site reports of its own copy. Two callers: the peer monitor (after a
// heartbeat the peer answered) and PATCH /v1.0/subcloud-peer-groups/{ref}/audit (a peer that just finished a
// migration). One group's audits never overlap. Every change is a command on the aggregate it concerns, with ids
// derived from the audit, so a repeated audit of the same facts appends nothing.
//
// audit(peer, remote group, local group):
// - this site is migrating the group: nothing;
// - the peer is migrating it: every local member becomes unmanaged + rehome-pending; the group's primary
//   associations become out-of-sync;
// - the peer completed a migration: per local member, by region name against the peer's members:
//   managed on the peer → unmanaged + secondary here (with the peer's rehome data when the peer's association is
//   out-of-sync, keeping this site's gateway); unmanaged on the peer after a failed rehome → rehome-failed here;
//   absent from the peer's group → secondary, then deleted here. When the peer leads the group, it becomes the
//   leader here too, and alarm 280.005 is raised when this site's priority is the higher one (lower number), else
//   cleared. The peer's migration_status is reset (PATCH {"migration_status": null}), and the associations become
//   in-sync, unless the peer's association is out-of-sync and a rehome failed (the §3.2 exception: the corrected
//   rehome data has still to be migrated);
// - otherwise: nothing.
// The association statuses it sets are those of the group's association with this peer only (dcmanager's
// update_sync_status is per peer): a group protected by several peers keeps the others' statuses.
import type { Logger } from 'pino';
import { peerDcmanager, type PeerDoc } from '../adapters/peer/peerDcmanager.js';
import { randomUUID } from 'node:crypto';
import { systemContext, type CommandContext } from '../commands/core/context.js';
import { COLLECTIONS } from '../domain/distcloud/collections.js';
import { ALARM_IDS, peerGroupNotManagedAlarm, peerGroupNotManagedEntity } from '../domain/distcloud/faultAlarm.js';
import { DEPLOY_STATUS as D, type ActiveSubcloud, type PeerMirroredStatus } from '../domain/distcloud/subcloud.js';
import type { RehomeData } from '../domain/distcloud/subcloudValidation.js';
import { PRIMARY_PRIORITY } from '../domain/distcloud/subcloudPeerGroup.js';
import type { SubcloudPeerGroupDoc } from '../projections/distcloud/subcloudPeerGroups.js';
import type { SubcloudDoc } from '../projections/distcloud/subclouds.js';
import type { SystemPeerDoc } from '../projections/distcloud/systemPeers.js';
import type { WorkflowDeps } from './workflow.js';

export const PEER_GROUP_AUDIT = 'peer-group-audit';

/** The peer's copy of a group, as its API or its /audit request renders it (underscore keys). */
export interface RemotePeerGroup {
  id?: number;
  peer_group_name: string;
  group_priority: number;
  group_state?: string;
  system_leader_id: string;
  system_leader_name: string;
  migration_status: string | null;
}

export interface AuditOutcome {
  /** What the audit did, in a word (tests and logs). */
  action: 'skipped-local-migrating' | 'mirrored-migrating' | 'reconciled' | 'nothing';
  /** The `/audit` answer's message (null when there is nothing to say). */
  message: string | null;
}

const REHOME_FAILED_STATES: readonly string[] = [D.rehomeFailed, D.rehomePrepFailed];

export function createPeerGroupAuditor(deps: WorkflowDeps, options: { peerTimeoutMs?: number } = {}) {
  const logger: Logger = deps.logger.child({ workflow: PEER_GROUP_AUDIT });
  const chains = new Map<number, Promise<unknown>>();
  const peerTimeoutMs = options.peerTimeoutMs ?? 60_000;

  async function members(groupId: number) {
    return deps.readStore.find<SubcloudDoc>(COLLECTIONS.subclouds, { peerGroupId: groupId }, { sort: { id: 1 } });
  }

  async function run(peer: SystemPeerDoc, remote: RemotePeerGroup, local: SubcloudPeerGroupDoc): Promise<AuditOutcome> {
    const geo = deps.geo;
    if (!geo) return { action: 'nothing', message: null };
    const log = logger.child({ peer: peer.peerName, peerGroup: local.peerGroupName });
    // No idempotency keys: the same facts may legitimately recur (a second migration); every command here changes
    // nothing when the state already is what the peer reports, so a repeated audit appends nothing anyway.
    const auditId = randomUUID();
    const ctx = (_step: string): CommandContext => ({ ...systemContext(deps.clock.now(), PEER_GROUP_AUDIT), correlationId: auditId, causationId: auditId });
    const mirror = (s: { id: number }, deployStatus: PeerMirroredStatus) =>
      deps.subclouds.record(s.id, { type: 'MirrorPeerDeployStatus', deployStatus, at: deps.clock.now().toISOString() }, ctx(`${s.id}:${deployStatus}`));

    const { state: group } = await geo.peerGroups.load(local.id);
    if (group.status !== 'active') return { action: 'nothing', message: null };
    if (group.migrationStatus === 'migrating') {
      return { action: 'skipped-local-migrating', message: `Subcloud peer group ${group.peerGroupName} is migrating on this site; not audited` };
    }

    if (remote.migration_status === 'migrating') {
      for (const s of await members(local.id)) await mirror(s, D.rehomePending);
      await geo.associations.markGroupSyncStatus(local.id, 'out-of-sync', ctx('out-of-sync'), false, peer.id);
      log.info('peer site is migrating the group: members unmanaged and rehome-pending');
      return { action: 'mirrored-migrating', message: null };
    }
    if (remote.migration_status !== 'complete') return { action: 'nothing', message: null };

    const client = peerDcmanager(geo.directory.sessionFor(peer), { timeoutMs: peerTimeoutMs });
    const remoteMembers = await client.peerGroupSubclouds(remote.peer_group_name);
    const byRegion = new Map(remoteMembers.map((m) => [String(m['region-name']), m]));
    const remoteAssociation = await findRemoteAssociation(client, remote);
    const remoteSyncStatus = remoteAssociation?.['sync-status'] as string | undefined;
    let anyRehomeFailed = false;
    for (const s of await members(local.id)) {
      const copy = byRegion.get(s.regionName);
      if (!copy) {
        // Removed from the group at the peer (maybe deleted there too): gone here as well (spec §3.1).
        await mirror(s, D.secondary);
        try {
          await deps.subclouds.remove(s.id, ctx(`${s.id}:delete`), true);
        } catch (err) {
          await geo.associations.markGroupSyncStatus(local.id, 'out-of-sync', ctx('delete-failed'), false, peer.id);
          throw err;
        }
        log.info({ subcloud: s.name }, 'subcloud no longer in the peer site\'s group: deleted here');
        continue;
      }
      if (copy['management-state'] === 'managed') {
        if (s.deployStatus === D.secondary) continue;
        if (remoteSyncStatus === 'out-of-sync') await copyRehomeData(s, copy, ctx);
        await mirror(s, D.secondary);
      } else if (REHOME_FAILED_STATES.includes(String(copy['deploy-status']))) {
        await mirror(s, D.rehomeFailed);
        anyRehomeFailed = true;
      }
    }

    if (remote.system_leader_id === peer.peerUuid) {
      const alarm = { alarmId: ALARM_IDS.peerGroupNotManaged, ...peerGroupNotManagedAlarm(group.peerGroupName, peer.peerUuid) };
      if (group.groupPriority < remote.group_priority) await geo.alarms.raise(alarm, ctx('alarm'));
      else await geo.alarms.clear(alarm.alarmId, peerGroupNotManagedEntity(group.peerGroupName, peer.peerUuid), ctx('alarm'));
      await geo.peerGroups.changeLeader(local.id, { systemLeaderId: remote.system_leader_id, systemLeaderName: remote.system_leader_name }, ctx('leader'));
    }
    await client.updatePeerGroup(remote.peer_group_name, { migration_status: null });
    if (!(remoteSyncStatus === 'out-of-sync' && anyRehomeFailed)) {
      await geo.associations.markGroupSyncStatus(local.id, 'in-sync', ctx('in-sync'), false, peer.id);
      // Both sites (dcmanager's update_sync_status): a primary site sets the peer's association too, even when its
      // own was in-sync already (the status push only follows changes of ours).
      if (group.groupPriority === PRIMARY_PRIORITY && remoteAssociation && remoteSyncStatus !== 'in-sync') {
        await client.setAssociationSyncStatus(remoteAssociation.id, 'in-sync');
      }
    }
    log.info({ anyRehomeFailed, remoteSyncStatus }, 'peer group audited after the peer site\'s migration');
    return { action: 'reconciled', message: null };
  }

  /** The peer's association of its copy with its system peer for this site (its sync status: spec §3.2). */
  async function findRemoteAssociation(client: ReturnType<typeof peerDcmanager>, remote: RemotePeerGroup) {
    const me = await client.systemPeer(deps.geo!.localSystem().uuid);
    const remoteId = remote.id ?? (await client.peerGroup(remote.peer_group_name))?.id;
    if (!me || remoteId === undefined) return undefined;
    return client.findAssociation(remoteId, me.id);
  }

  async function copyRehomeData(s: SubcloudDoc, copy: PeerDoc, ctx: (key: string) => CommandContext) {
    const text = copy.rehome_data;
    if (typeof text !== 'string' || !text) return;
    let rehomeData: RehomeData;
    try {
      rehomeData = JSON.parse(text) as RehomeData;
    } catch {
      return;
    }
    if (!rehomeData?.saved_payload) return;
    await deps.subclouds.record(s.id, { type: 'CopyPeerRehomeData', rehomeData, at: deps.clock.now().toISOString() }, ctx(`${s.id}:rehome-data`));
  }

  return {
    /** Audits one local group against the peer's copy; queued behind a running audit of the same group. */
    audit(peer: SystemPeerDoc, remote: RemotePeerGroup, local: SubcloudPeerGroupDoc): Promise<AuditOutcome> {
      const previous = chains.get(local.id) ?? Promise.resolve();
      const next = previous.catch(() => undefined).then(() => run(peer, remote, local));
      chains.set(local.id, next);
      void next.finally(() => {
        if (chains.get(local.id) === next) chains.delete(local.id);
      }).catch(() => undefined);
      return next;
    },
  };
}

export type PeerGroupAuditor = ReturnType<typeof createPeerGroupAuditor>;

/** A subcloud as the audit reads it (for tests). */
export type AuditedSubcloud = Pick<ActiveSubcloud, 'id' | 'regionName' | 'deployStatus'>;
