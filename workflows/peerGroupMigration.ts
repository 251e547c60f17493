// The batch migration of a subcloud peer group to this site (dcmanager's batch_migrate_subcloud, spec §3.7), after
// PATCH /v1.0/subcloud-peer-groups/{ref}/migrate recorded PeerGroupMigrationStarted (its subclouds and the sealed
// sysadmin password). The deciders decide what each step may do; this file decides when.
//
// Per subcloud, at most `max_subcloud_rehoming` at once, each step an event of the subcloud as a deploy phase
// `rehome` whose operation id is derived from the migration and the subcloud:
//   StartDeployPhase (pre-rehome)
//   -> on every associated peer that is available: GET /subclouds/{region}/detail and, unless it is already
//      unmanaged and rehome-pending there, PATCH {management-state: unmanaged, migrate: true} (just migrate when
//      unmanaged), 3 attempts; failing that, the phase fails while preparing (rehome-prep-failed)
//   -> ReportDeployProgress running (rehoming) -> the agent's `rehome` operation at the rehome data's
//      bootstrap-address, naming this site -> CompleteDeployPhase (complete) or FailDeployPhase (rehome-failed)
//   -> complete: wait until the agent answers its health check (dcmanager waits up to 900 s, polling every 20 s;
//      both scaled by WORKFLOW_TIME_SCALE), record it online, then manage it (the site's own manager acts past the
//      API's peer-group checks, as dcmanager's manager does).
// Then, whatever became of each subcloud: this site leads the group and migration_status is `complete`
// (CompletePeerGroupMigration, with the migration request's correlation id), alarm 280.005 is cleared for a
// primary group, and every associated peer is asked to audit its copy (PATCH /subcloud-peer-groups/{name}/audit);
// a peer that cannot be reached is logged, not fatal.
//
// Exactly once: every step's events have ids derived from `<migration>:<subcloud>:<step>`; the agent operation's id
// is the phase's. Restart: start() resumes every group still `migrating` with a migration id; a subcloud whose phase
// is running is followed on its agent (a lost operation fails it), a finished one is not touched again.
import type { Logger } from 'pino';
import type { RecordedEvent } from '../adapters/eventstore/port.js';
import { peerDcmanager } from '../adapters/peer/peerDcmanager.js';
import type { Operation } from '../adapters/subcloudAgent/contract.js';
import { AgentError, AgentUnreachableError } from '../adapters/subcloudAgent/errors.js';
import { deterministicUuid, systemContext, type CommandContext } from '../commands/core/context.js';
import { COLLECTIONS } from '../domain/distcloud/collections.js';
import { ALARM_IDS, peerGroupNotManagedEntity } from '../domain/distcloud/faultAlarm.js';
import { MIGRATABLE_STATES } from '../domain/distcloud/peerGroupMigration.js';
import { DEPLOY_STATUS as D, type ActiveSubcloud, type SubcloudCommand } from '../domain/distcloud/subcloud.js';
import { PRIMARY_PRIORITY, type MigrationStart } from '../domain/distcloud/subcloudPeerGroup.js';
import type { PeerGroupAssociationDoc } from '../projections/distcloud/peerGroupAssociations.js';
import type { SubcloudPeerGroupDoc } from '../projections/distcloud/subcloudPeerGroups.js';
import type { SystemPeerDoc } from '../projections/distcloud/systemPeers.js';
import { eventFollower } from './eventFollower.js';
import { limiter, runRegistry, WorkflowStopped as Stopped } from './runs.js';
import { DEFAULT_SYSTEM_CONTROLLER } from './subcloudDeploy.js';
import type { Workflow, WorkflowDeps } from './workflow.js';

export const PEER_GROUP_MIGRATION = 'peer-group-migration';
export const PEER_GROUP_MIGRATION_CHECKPOINT = 'workflow.peerGroupMigration';
/** dcmanager's BATCH_REHOME_MGMT_STATES_TIMEOUT and its poll. */
const ONLINE_WAIT_MS = 900_000;
const ONLINE_POLL_MS = 20_000;
const PEER_UNMANAGE_ATTEMPTS = 3;

export interface PeerGroupMigrationOptions {
  /** Per call to a peer site (default 60 s). */
  peerTimeoutMs?: number;
  /** Held open per poll of a rehome operation (default 10 s): a finished rehome is seen at once. */
  longPollMs?: number;
}

export interface MigrationReport {
  groupId: number;
  migrationId: string;
  /** Each subcloud's deploy status at the end. */
  subclouds: Record<string, string>;
}

export interface PeerGroupMigration extends Workflow {
  /** Runs (or resumes) one migration to its end. */
  run(groupId: number, migrationId: string): Promise<MigrationReport>;
}


const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

export function createPeerGroupMigration(deps: WorkflowDeps, options: PeerGroupMigrationOptions = {}): PeerGroupMigration {
  const { readStore, clock, subclouds, agent } = deps;
  const logger: Logger = deps.logger.child({ workflow: PEER_GROUP_MIGRATION });
  const scale = deps.settings.timeScale ?? 1;
  const peerTimeoutMs = options.peerTimeoutMs ?? 60_000;
  const longPollMs = options.longPollMs ?? 10_000;
  const runs = runRegistry<MigrationReport>(logger, 'peer group migration failed');
  const { checkStopped } = runs;

  async function associatedPeers(groupId: number): Promise<SystemPeerDoc[]> {
    const associations = await readStore.find<PeerGroupAssociationDoc>(COLLECTIONS.peerGroupAssociations, { peerGroupId: groupId });
    const ids = [...new Set(associations.map((a) => a.systemPeerId))];
    return ids.length ? readStore.find<SystemPeerDoc>(COLLECTIONS.systemPeers, { id: { $in: ids } }, { sort: { id: 1 } }) : [];
  }

  async function migrate(groupId: number, migrationId: string): Promise<MigrationReport> {
    if (!deps.geo) return { groupId, migrationId, subclouds: {} };
    const geo = deps.geo;
    // The group, and the migration's start event: its subclouds, password, and the request's correlation id.
    const { state: group, events } = await geo.peerGroups.load(groupId);
    const found = events.find((e) => e.type === 'PeerGroupMigrationStarted' && (e.data as MigrationStart).migrationId === migrationId);
    if (!found) return { groupId, migrationId, subclouds: {} };
    const start = found.data as MigrationStart;
    const correlationId = found.metadata.correlationId;
    /** A context for one step: idempotent, and correlated with the migration request. */
    const ctx = (key: string): CommandContext => ({
      ...systemContext(clock.now(), PEER_GROUP_MIGRATION, `${migrationId}:${key}`),
      correlationId,
      causationId: migrationId,
    });
    // Only the group's open migration runs: a start event seen again (a replay after a restart) is history.
    if (group.status !== 'active' || group.migrationId !== migrationId || group.migrationStatus !== 'migrating') {
      return { groupId, migrationId, subclouds: {} };
    }
    const log = logger.child({ peerGroup: group.peerGroupName, migrationId });
    const peers = await associatedPeers(groupId);
    const available = peers.filter((p) => p.availabilityState === 'available');
    const local = geo.localSystem();
    const password = deps.secrets.open(start.sysadminPassword);
    log.info({ subclouds: start.subcloudIds.length, peers: available.map((p) => p.peerName) }, 'migrating peer group');

    // Three stages, each at most max_subcloud_rehoming at once: preparing (the phase started, the peers' copies
    // unmanaged), rehoming (the agent's operation: the bound dcmanager's pool sets), finishing (online, managed).
    // A subcloud leaves a stage's slot as soon as its part is done, so the rehomes run back to back.
    const width = group.maxSubcloudRehoming;
    const [preparing, rehoming, finishing] = [limiter(width), limiter(width), limiter(width)];
    const outcome: Record<string, string> = {};
    await Promise.all(
      start.subcloudIds.map(async (id) => {
        try {
          outcome[id] = await migrateSubcloud(id);
        } catch (err) {
          if (err instanceof Stopped) throw err;
          log.error({ err, subcloudId: id }, 'migration step failed; the subcloud stays where it is');
          outcome[id] = 'error';
        }
      }),
    );

    async function migrateSubcloud(id: number): Promise<string> {
      const operationId = deterministicUuid(PEER_GROUP_MIGRATION, migrationId, String(id));
      const record = (step: string, command: SubcloudCommand) => subclouds.record(id, command, ctx(`${id}:${step}`));
      const at = () => clock.now().toISOString();
      const fail = async (errorDescription: string) => {
        await record('fail', { type: 'FailDeployPhase', operationId, errorDescription, at: at() });
        return (await current(id))?.deployStatus ?? 'deleted';
      };

      const prepared = await preparing(async (): Promise<ActiveSubcloud | string> => {
        checkStopped();
        let s = await current(id);
        if (!s) return 'deleted';
        const mine = s.operation?.id === operationId;
        if (mine && s.operation!.status === 'failed') return s.deployStatus;
        if (!mine) {
          if (!MIGRATABLE_STATES.includes(s.deployStatus)) return s.deployStatus;
          await record('start', { type: 'StartDeployPhase', operationId, phase: 'rehome', at: at() });
          s = (await current(id))!;
        }
        if (s.operation?.status === 'running' && s.deployStatus === D.preRehome) {
          // The peers let go of the subcloud first (its copy there: unmanaged, rehome-pending).
          for (const peer of available) {
            const problem = await unmanageOnPeer(peer, s);
            if (problem) return fail(problem);
          }
        }
        return s;
      });
      if (typeof prepared === 'string') return prepared;
      const address = String(prepared.rehomeData?.saved_payload['bootstrap-address'] ?? '');

      const rehomed = await rehoming(async (): Promise<string | undefined> => {
        checkStopped();
        let s = prepared;
        if (s.operation?.status !== 'running') return undefined;
        let op: Operation;
        if (s.deployStatus === D.preRehome) {
          await record('running', { type: 'ReportDeployProgress', operationId, running: true, at: at() });
          try {
            const saved = s.rehomeData?.saved_payload ?? {};
            op = await agent.startOperation(
              address,
              {
                id: operationId,
                kind: 'rehome',
                params: {
                  system_controller: { ...DEFAULT_SYSTEM_CONTROLLER, name: local.name, uuid: local.uuid },
                  ...(typeof saved.systemcontroller_gateway_address === 'string' ? { systemcontroller_gateway_address: saved.systemcontroller_gateway_address } : {}),
                  sysadmin_password: password,
                },
              },
              { signal: runs.signal() },
            );
          } catch (err) {
            checkStopped();
            return fail(agentProblem(s, address, err, 'start the rehome'));
          }
          s = (await current(id))!;
        } else {
          // After a restart, mid-rehome: what does the agent know of the operation?
          try {
            op = await agent.operation(address, operationId, { signal: runs.signal() });
          } catch (err) {
            checkStopped();
            if (err instanceof AgentUnreachableError || (err instanceof AgentError && err.code === 'not_found')) {
              await record('interrupted', { type: 'MarkInterruptedDeploy', at: at() });
              return (await current(id))?.deployStatus ?? 'deleted';
            }
            throw err;
          }
        }
        const done = await follow(s, address, operationId, op);
        if (typeof done === 'string') return fail(done);
        await record('complete', { type: 'CompleteDeployPhase', operationId, at: at() });
        return undefined;
      });
      if (typeof rehomed === 'string') return rehomed;

      return finishing(async () => {
        checkStopped();
        const s = (await current(id))!;
        if (s.deployStatus !== D.done || s.managementState === 'managed') return s.deployStatus;
        if (!(await waitOnline(s.bootstrapAddress ?? address))) {
          log.warn({ subcloud: s.name }, 'rehomed subcloud did not come online in time; left unmanaged');
          return s.deployStatus;
        }
        await record('online', { type: 'RecordAvailability', reachable: true, consecutiveFailures: 0, at: at() });
        const now = (await current(id))!;
        await subclouds.update(now, { managementState: 'managed' }, ctx(`${id}:manage`), true);
        return (await current(id))?.deployStatus ?? 'deleted';
      });
    }

    /** Follows the rehome to its end: the operation, or why it failed. */
    async function follow(s: ActiveSubcloud, address: string, operationId: string, op: Operation): Promise<Operation | string> {
      if (op.state === 'running') {
        try {
          op = await agent.waitForOperation(address, operationId, { longPollMs, pollMs: Math.max(20, 2_000 * scale), signal: runs.signal() });
        } catch (err) {
          checkStopped();
          return agentProblem(s, address, err, 'follow the rehome');
        }
      }
      if (op.state === 'succeeded') return op;
      return op.error ? `${op.error.message}${op.error.code === 'operation_failed' ? '' : ` (${op.error.code})`}` : 'rehome failed';
    }

    /** The peer's copy unmanaged and rehome-pending; why not, if it could not be. */
    async function unmanageOnPeer(peer: SystemPeerDoc, s: ActiveSubcloud): Promise<string | undefined> {
      const client = peerDcmanager(geo.directory.sessionFor(peer), { timeoutMs: peerTimeoutMs });
      let last: unknown;
      for (let attempt = 1; attempt <= PEER_UNMANAGE_ATTEMPTS; attempt++) {
        checkStopped();
        try {
          const copy = await client.subcloudDetail(s.regionName);
          if (!copy) return undefined; // the peer has no copy: nothing to let go of
          if (copy['management-state'] === 'unmanaged' && copy['deploy-status'] === D.rehomePending) return undefined;
          const fields: Record<string, string> = copy['management-state'] === 'unmanaged' ? { migrate: 'true' } : { 'management-state': 'unmanaged', migrate: 'true' };
          await client.updateSubcloud(s.regionName, { fields });
          return undefined;
        } catch (err) {
          last = err;
          log.warn({ err: errorText(err), subcloud: s.name, peer: peer.peerName, attempt }, 'could not unmanage the subcloud on the peer site');
        }
      }
      return `Unable to unmanage subcloud ${s.name} on peer site ${peer.peerName}: ${errorText(last)}`;
    }

    // The end, whatever became of each subcloud: this site leads the group.
    checkStopped();
    await geo.peerGroups.completeMigration(groupId, migrationId, { systemLeaderId: local.uuid, systemLeaderName: local.name }, ctx('complete'));
    if (group.groupPriority === PRIMARY_PRIORITY) {
      for (const peer of peers) await geo.alarms.clear(ALARM_IDS.peerGroupNotManaged, peerGroupNotManagedEntity(group.peerGroupName, peer.peerUuid), ctx(`clear-alarm:${peer.id}`));
    }
    const { state: after } = await geo.peerGroups.load(groupId);
    if (after.status === 'active') {
      const audit = {
        id: after.id,
        peer_group_name: after.peerGroupName,
        group_priority: after.groupPriority,
        group_state: after.groupState,
        max_subcloud_rehoming: after.maxSubcloudRehoming,
        system_leader_id: after.systemLeaderId,
        system_leader_name: after.systemLeaderName,
        migration_status: after.migrationStatus,
        peer_uuid: local.uuid,
      };
      for (const peer of peers) {
        try {
          const answer = await peerDcmanager(geo.directory.sessionFor(peer), { timeoutMs: peerTimeoutMs }).auditPeerGroup(after.peerGroupName, audit);
          log.info({ peer: peer.peerName, message: answer.message ?? null }, 'peer site audited the group');
        } catch (err) {
          log.warn({ peer: peer.peerName, err: errorText(err) }, 'could not ask the peer site to audit the group');
        }
      }
    }
    log.info({ outcome }, 'peer group migration complete');
    return { groupId, migrationId, subclouds: outcome };
  }

  async function current(id: number): Promise<ActiveSubcloud | undefined> {
    const { state } = await subclouds.load(id);
    return state.status === 'active' ? (state as ActiveSubcloud) : undefined;
  }

  /** Until the rehomed subcloud's agent answers, bounded (dcmanager: 900 s, a poll every 20 s; scaled). */
  async function waitOnline(address: string): Promise<boolean> {
    const deadline = Date.now() + ONLINE_WAIT_MS * scale;
    for (;;) {
      checkStopped();
      try {
        await agent.health(address, { retries: 0, signal: runs.signal() });
        return true;
      } catch {
        if (Date.now() >= deadline) return false;
      }
      await new Promise((r) => setTimeout(r, ONLINE_POLL_MS * scale));
    }
  }

  const run = (groupId: number, migrationId: string) => runs.run(`${groupId}:${migrationId}`, () => migrate(groupId, migrationId));
  const launch = (groupId: number, migrationId: string) =>
    runs.launch(`${groupId}:${migrationId}`, () => migrate(groupId, migrationId), { groupId, migrationId });

  const follower = eventFollower({
    eventStore: deps.eventStore,
    readStore,
    checkpoint: PEER_GROUP_MIGRATION_CHECKPOINT,
    logger,
    onChunk(chunk: RecordedEvent[]) {
      for (const e of chunk) {
        if (e.type !== 'PeerGroupMigrationStarted' || !e.streamId.startsWith('subcloudPeerGroup-')) continue;
        launch(Number(e.streamId.slice('subcloudPeerGroup-'.length)), (e.data as MigrationStart).migrationId);
      }
    },
  });

  return {
    name: PEER_GROUP_MIGRATION,
    async start() {
      if (!deps.geo) return;
      runs.open();
      // Resume the migrations a stop interrupted (the read model has caught up: start() runs after the projections).
      const unfinished = await readStore.find<SubcloudPeerGroupDoc>(COLLECTIONS.subcloudPeerGroups, { migrationStatus: 'migrating' });
      for (const g of unfinished) if (g.status === 'active' && g.migrationId) launch(g.id, g.migrationId);
      await follower.start();
    },
    async stop() {
      await Promise.all([runs.close('the migration workflow is stopping'), follower.stop()]);
    },
    run,
  };
}

function agentProblem(s: { name: string }, address: string, err: unknown, what: string): string {
  if (err instanceof AgentUnreachableError) return `Subcloud ${s.name} could not be reached at bootstrap address ${address} to ${what}: ${err.reason} after ${err.attempts} attempt(s)`;
  if (err instanceof AgentError) return `The subcloud agent at ${address} refused to ${what}: ${err.code}: ${err.message}`;
  return `Could not ${what} on subcloud ${s.name}: ${errorText(err)}`;
}

/** The migration workflow (add it to WORKFLOWS). */
export const peerGroupMigration = (deps: WorkflowDeps): Workflow => createPeerGroupMigration(deps);
