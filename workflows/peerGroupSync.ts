// The association sync workflow (dcmanager's system_peer_manager.sync_subcloud_peer_group, spec §3.6): pushes a primary
// association's subcloud peer group, and with it the group's subclouds, to the association's peer site, and records
// the outcome on the association. domain/distcloud/peerGroupSync.ts decides what is pushed and what the outcome is;
// this file decides only when, and makes the calls (adapters/peer/peerDcmanager.ts), in the spec's order:
//
//  1. the peer's sysinv system UUID must be the system peer's peer_uuid;
//  2. the peer must have a system peer for this site (GET /system-peers/{local uuid}); if not, only the local
//     association fails ("System Peer <uuid> does not exist on peer site.");
//  3. the peer's group by name, created with the association's priority if absent; priority 0 there is an error;
//  4. the peer's non-primary association of that group with its system peer for this site, created if absent;
//  5. that association PATCHed `syncing`;  6. the peer's group PATCHed with the five attributes;
//  7. with syncSubclouds: the local members validated (and their peer copies' states), then each pushed, at most
//     MAX_PARALLEL_SUBCLOUD_SYNC at once (update or add as secondary, then join the peer's group; the copy must stay
//     secondary/rehome-failed/rehome-prep-failed), then the peer's members no longer members here deleted;
//  8. the peer's association PATCHed `in-sync` or `failed`, then the local one the same (with the failed names).
// Any error on the way fails both associations (the local one with the error's text); the peer's is reached when it
// is known, and a failure to reach it is only logged.
//
// When: it follows `$all` from its checkpoint `workflow.peerGroupSync` (read store) and takes PeerGroupAssociationAdded
// and PeerGroupAssociationSyncRequested. A trigger runs only while it is the association's latest trigger and the
// association is primary and `syncing` (syncStillWanted), so a trigger delivered again after its sync ended does
// nothing, and of several triggers queued for one association only the last runs. One association's syncs run one
// after another; different associations' run side by side.
//
// Exactly once: every status this workflow records is an event with an idempotency key derived from the trigger event
// (`<association id>:<trigger event id>:result`), so a repeated step appends nothing.
//
// Restart rule (start(), before following): every association left `syncing` is failed with "Service restart during
// syncing" (dcmanager's handle_association_operations_in_progress). The checkpoint moves past a trigger as soon as the
// trigger is taken (not when its sync ends): a trigger in flight at a crash is not delivered again, and one delivered
// again (checkpoint not yet written) finds its association failed by the rule. A sync is not resumed: the operator
// runs `peer-group-association sync` again, as with dcmanager.
//
// stop(): no new work; a sync in flight stops before its next call to the peer, leaving the association `syncing`
// for the restart rule.
import type { Logger } from 'pino';
import { stringify } from 'yaml';
import type { RecordedEvent } from '../adapters/eventstore/port.js';
import { positionFromString, positionToString } from '../adapters/eventstore/port.js';
import { peerDcmanager, type PeerDcmanager, type PeerDoc } from '../adapters/peer/peerDcmanager.js';
import { systemContext } from '../commands/core/context.js';
import { COLLECTIONS } from '../domain/distcloud/collections.js';
import {
  evolve as evolveAssociation,
  initialState as initialAssociation,
  peerGroupAssociationStream,
  type PeerGroupAssociationEvent,
  type PeerGroupAssociationState,
} from '../domain/distcloud/peerGroupAssociation.js';
import {
  MAX_PARALLEL_SUBCLOUD_SYNC,
  SERVICE_RESTART_MESSAGE,
  WRONG_PEER_GROUP_PRIORITY,
  interruptedBySyncRestart,
  isSyncTrigger,
  joinedCopyProblem,
  memberProblems,
  membersToPush,
  peerCopiesToDelete,
  peerCopyProblem,
  peerGroupCreateBody,
  peerGroupIsReplica,
  peerGroupUpdateBody,
  peerSubcloudForm,
  syncOutcome,
  syncStillWanted,
  systemPeerMissingMessage,
  targetNotMatchMessage,
  type SyncOutcome,
} from '../domain/distcloud/peerGroupSync.js';
import type { PeerGroupAssociationDoc } from '../projections/distcloud/peerGroupAssociations.js';
import type { SubcloudDoc } from '../projections/distcloud/subclouds.js';
import type { SubcloudPeerGroupDoc } from '../projections/distcloud/subcloudPeerGroups.js';
import type { SystemPeerDoc } from '../projections/distcloud/systemPeers.js';
import { eventFollower } from './eventFollower.js';
import type { Workflow, WorkflowDeps } from './workflow.js';

export const PEER_GROUP_SYNC = 'peer-group-sync';
export const PEER_GROUP_SYNC_CHECKPOINT = 'workflow.peerGroupSync';
const ASSOCIATION_PREFIX = 'peerGroupAssociation-';

export interface PeerGroupSyncOptions {
  /** Per call on the peer (default: the session's, dcmanager's 600 s). */
  requestTimeoutMs?: number;
}

/** One trigger event, as taken from `$all`. */
export interface SyncRequest {
  associationId: number;
  /** The trigger event's id: the idempotency keys of what its sync records derive from it. */
  eventId: string;
  syncSubclouds: boolean;
}

export interface SyncReport {
  associationId: number;
  eventId: string;
  /** false: the trigger was no longer wanted (see syncStillWanted) or the workflow stopped. */
  ran: boolean;
  /** The local association's status and message as this sync recorded them. */
  outcome?: SyncOutcome;
}

export interface PeerGroupSync extends Workflow {
  /** The restart rule; start() runs it first. Returns the associations it failed. */
  recover(): Promise<number[]>;
  /** Without a subscription: takes the triggers from the checkpoint to the head, runs them to their end, moves the
   *  checkpoint (tests; not while started). */
  runOnce(): Promise<SyncReport[]>;
  /** After start(): resolves once everything appended so far has been taken and every sync has ended. */
  settled(): Promise<void>;
}

/** Ends a sync at a safe point when the workflow stops. */
class Stopped extends Error {}

/** A failure whose text is the local association's message; `peer` says whether the peer's association is failed too. */
class SyncFailure extends Error {
  constructor(
    message: string,
    readonly peer: boolean,
  ) {
    super(message);
  }
}

/** The association as its stream has it, and its latest trigger's event id. */
async function associationNow(deps: WorkflowDeps, id: number) {
  const recorded = await deps.eventStore.readStream(peerGroupAssociationStream(id));
  let state: PeerGroupAssociationState = initialAssociation();
  let latestTrigger: string | undefined;
  for (const r of recorded) {
    const event = deps.upcasters.upcast(r.type, r.metadata.schemaVersion, r.data) as PeerGroupAssociationEvent;
    state = evolveAssociation(state, event);
    if (isSyncTrigger(r.type)) latestTrigger = r.id;
  }
  return { state, latestTrigger, revision: recorded.length - 1 };
}

/** Runs fn on each item, at most `limit` at once. */
async function inPool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

export function createPeerGroupSync(deps: WorkflowDeps, options: PeerGroupSyncOptions = {}): PeerGroupSync {
  const { eventStore, readStore, clock } = deps;
  const logger: Logger = deps.logger.child({ workflow: PEER_GROUP_SYNC });
  let stopping = false;
  /** Per association: the chain its syncs run in. */
  const chains = new Map<number, Promise<unknown>>();
  const running = new Set<Promise<SyncReport>>();

  const contextFor = (key: string) => systemContext(clock.now(), PEER_GROUP_SYNC, key);
  const checkStopped = () => {
    if (stopping) throw new Stopped();
  };

  // ---- scheduling ----
  function enqueue(request: SyncRequest): Promise<SyncReport> {
    const previous = chains.get(request.associationId) ?? Promise.resolve();
    const p: Promise<SyncReport> = previous
      .then(() => (stopping ? { associationId: request.associationId, eventId: request.eventId, ran: false } : sync(request)))
      .catch((err: unknown) => {
        if (!(err instanceof Stopped)) logger.error({ err, associationId: request.associationId }, 'association sync could not be recorded');
        return { associationId: request.associationId, eventId: request.eventId, ran: false };
      })
      .finally(() => {
        running.delete(p);
        if (chains.get(request.associationId) === p) chains.delete(request.associationId);
      });
    chains.set(request.associationId, p);
    running.add(p);
    return p;
  }

  // ---- one sync ----
  async function sync(request: SyncRequest): Promise<SyncReport> {
    const { associationId: id, eventId } = request;
    const skipped: SyncReport = { associationId: id, eventId, ran: false };
    const now = await associationNow(deps, id);
    if (!syncStillWanted(now.state, now.latestTrigger, eventId) || now.state.status === 'absent') return skipped;
    const association = now.state;
    const geo = deps.geo;
    if (!geo) return skipped;
    const group = await readStore.get<SubcloudPeerGroupDoc>(COLLECTIONS.subcloudPeerGroups, String(association.peerGroupId));
    const peer = await readStore.get<SystemPeerDoc>(COLLECTIONS.systemPeers, String(association.systemPeerId));
    const priority = association.peerGroupPriority ?? 0;
    const log = logger.child({ associationId: id, peerGroup: group?.peerGroupName, peer: peer?.peerName });

    /** What is known of the peer's side so far (for failing its association on an error). */
    let client: PeerDcmanager | undefined;
    let peerAssociationId: unknown;
    let peerGroupId: unknown;
    let peerSystemPeerId: unknown;
    let outcome: SyncOutcome;
    try {
      if (!group || !peer) throw new SyncFailure(`The association's ${group ? 'system peer' : 'subcloud peer group'} was not found`, false);
      client = peerDcmanager(geo.directory.sessionFor(peer), options.requestTimeoutMs !== undefined ? { timeoutMs: options.requestTimeoutMs } : {});
      const local = geo.localSystem();

      // 1-2: the peer is the system the system peer names, and knows this site.
      checkStopped();
      const uuid = await client.systemUuid();
      if (uuid?.toLowerCase() !== peer.peerUuid.toLowerCase()) throw new SyncFailure(targetNotMatchMessage(peer.peerUuid, uuid), false);
      checkStopped();
      const back = await client.systemPeer(local.uuid);
      if (!back) throw new SyncFailure(systemPeerMissingMessage(local.uuid), false);
      peerSystemPeerId = back.id;

      // 3: the replica group.
      checkStopped();
      let peerGroup = await client.peerGroup(group.peerGroupName);
      if (!peerGroup) {
        checkStopped();
        peerGroup = await client.addPeerGroup(peerGroupCreateBody(group, priority));
      }
      peerGroupId = peerGroup.id;
      if (!peerGroupIsReplica(peerGroup.group_priority)) throw new Error(WRONG_PEER_GROUP_PRIORITY);

      // 4-6: the peer's association, syncing; the group's attributes.
      checkStopped();
      let peerAssociation = await client.findAssociation(peerGroupId, peerSystemPeerId);
      if (!peerAssociation) {
        checkStopped();
        peerAssociation = await client.addAssociation({ peer_group_id: peerGroupId, system_peer_id: peerSystemPeerId });
      }
      peerAssociationId = peerAssociation.id;
      checkStopped();
      await client.setAssociationSyncStatus(peerAssociationId, 'syncing');
      checkStopped();
      await client.updatePeerGroup(group.peerGroupName, peerGroupUpdateBody(group, priority));

      // 7: the subclouds.
      const failed = request.syncSubclouds ? await syncSubclouds(client, group, peer, peerGroupId, log) : [];

      // 8: the outcome, on the peer first.
      outcome = syncOutcome(failed, group.peerGroupName);
      checkStopped();
      await client.setAssociationSyncStatus(peerAssociationId, outcome.syncStatus);
    } catch (err) {
      if (err instanceof Stopped) {
        log.info('stopping: the sync ends here; the association stays syncing for the restart rule');
        return skipped;
      }
      outcome = { syncStatus: 'failed', syncMessage: errorText(err) };
      log.warn({ err: outcome.syncMessage }, 'association sync failed');
      if (client && !(err instanceof SyncFailure && !err.peer)) await failPeerAssociation(client, peerAssociationId, peerGroupId, peerSystemPeerId, log);
    }
    await record(request, outcome, log);
    return { associationId: id, eventId, ran: true, outcome };
  }

  /** Step 7; returns the names of the subclouds that could not be synced (or deleted). Throws on refusals. */
  async function syncSubclouds(client: PeerDcmanager, group: SubcloudPeerGroupDoc, peer: SystemPeerDoc, peerGroupId: unknown, log: Logger): Promise<string[]> {
    const locals = await readStore.find<SubcloudDoc>(COLLECTIONS.subclouds, { peerGroupId: group.id }, { sort: { id: 1 } });
    const members = membersToPush(locals);
    const problems = members.flatMap(memberProblems);
    if (problems.length > 0) throw new Error(problems.join(' '));

    // The peer's copies (by region, as a peer asks), each of which must be one a sync may rewrite.
    const copies = new Map<string, PeerDoc>();
    await inPool(members, MAX_PARALLEL_SUBCLOUD_SYNC, async (m) => {
      checkStopped();
      const copy = await client.subcloudDetail(m.regionName);
      if (copy) copies.set(m.regionName, copy);
    });
    const wrongState = members.flatMap((m) => {
      const copy = copies.get(m.regionName);
      const problem = copy ? peerCopyProblem(m.name, copy['deploy-status']) : undefined;
      return problem ? [problem] : [];
    });
    if (wrongState.length > 0) throw new Error(wrongState.join(' '));

    const failed = new Set<string>();
    await inPool(members, MAX_PARALLEL_SUBCLOUD_SYNC, async (m) => {
      checkStopped();
      const existing = copies.has(m.regionName);
      const form = peerSubcloudForm(m, peer.peerControllerGatewayAddress, existing);
      const files: Record<string, string> = { bootstrap_values: stringify(form.bootstrapValues) };
      if (form.installValues) files.install_values = stringify(form.installValues);
      try {
        if (existing) await client.updateSubcloud(m.regionName, { fields: form.fields, files });
        else await client.addSubcloud({ fields: form.fields, files });
        checkStopped();
        const joined = await client.updateSubcloud(m.regionName, { fields: { peer_group: String(peerGroupId) } });
        const problem = joinedCopyProblem(joined['deploy-status']);
        if (problem) throw new Error(problem);
      } catch (err) {
        if (err instanceof Stopped) throw err;
        log.warn({ subcloud: m.name, err: errorText(err) }, 'subcloud could not be synced to the peer site');
        failed.add(m.name);
      }
    });

    // The peer's members that are members here no more.
    checkStopped();
    const peerMembers = await client.peerGroupSubclouds(String(peerGroupId));
    const plan = peerCopiesToDelete(
      peerMembers.map((p) => ({ name: String(p.name), deployStatus: String(p['deploy-status']) })),
      new Set(members.map((m) => m.name)),
    );
    if (plan.keep.length > 0) log.warn({ subclouds: plan.keep }, 'peer copies no longer in the group here are left: their state does not allow deleting them');
    await inPool(plan.remove, MAX_PARALLEL_SUBCLOUD_SYNC, async (name) => {
      checkStopped();
      try {
        await client.deleteSubcloud(name);
      } catch (err) {
        log.warn({ subcloud: name, err: errorText(err) }, 'peer copy could not be deleted');
        failed.add(name);
      }
    });
    return [...failed];
  }

  /** The peer's association `failed`, when it is known or can be found; a failure here is only logged. */
  async function failPeerAssociation(client: PeerDcmanager, peerAssociationId: unknown, peerGroupId: unknown, peerSystemPeerId: unknown, log: Logger) {
    try {
      let target = peerAssociationId;
      if (target === undefined && peerGroupId !== undefined && peerSystemPeerId !== undefined) {
        target = (await client.findAssociation(peerGroupId, peerSystemPeerId))?.id;
      }
      if (target !== undefined) await client.setAssociationSyncStatus(target, 'failed');
    } catch (err) {
      log.warn({ err: errorText(err) }, "could not mark the peer site's association failed");
    }
  }

  /** The local outcome, unless a later trigger took this one's place (its own sync records the outcome). */
  async function record(request: SyncRequest, outcome: SyncOutcome, log: Logger) {
    const now = await associationNow(deps, request.associationId);
    if (now.state.status !== 'active') return;
    if (now.latestTrigger !== request.eventId) {
      log.info('a later sync request took this one\'s place; its outcome is that one\'s to record');
      return;
    }
    await deps.geo!.associations.setSyncStatus(
      request.associationId,
      outcome.syncStatus,
      outcome.syncMessage,
      contextFor(`${request.associationId}:${request.eventId}:result`),
    );
  }

  // ---- restart, events, subscription ----
  async function recover(): Promise<number[]> {
    if (!deps.geo) return [];
    const docs = await readStore.find<PeerGroupAssociationDoc>(COLLECTIONS.peerGroupAssociations, { syncStatus: 'syncing' }, { sort: { id: 1 } });
    const failed: number[] = [];
    for (const d of docs) {
      const now = await associationNow(deps, d.id);
      if (!interruptedBySyncRestart(now.state)) continue;
      // Keyed by the revision: each syncing episode is failed once, and a later one again.
      await deps.geo.associations.setSyncStatus(d.id, 'failed', SERVICE_RESTART_MESSAGE, contextFor(`${d.id}:r${now.revision}:restart`));
      failed.push(d.id);
    }
    if (failed.length) logger.info({ associations: failed }, 'associations left syncing by the previous run are failed');
    return failed;
  }

  /** The sync requests in a chunk of `$all`. */
  function requestsIn(chunk: RecordedEvent[]): SyncRequest[] {
    const requests: SyncRequest[] = [];
    for (const e of chunk) {
      if (!isSyncTrigger(e.type) || !e.streamId.startsWith(ASSOCIATION_PREFIX)) continue;
      const event = deps.upcasters.upcast(e.type, e.metadata.schemaVersion, e.data) as PeerGroupAssociationEvent;
      const syncSubclouds = event.type === 'PeerGroupAssociationSyncRequested' ? event.data.syncSubclouds : true;
      requests.push({ associationId: Number(e.streamId.slice(ASSOCIATION_PREFIX.length)), eventId: e.id, syncSubclouds });
    }
    return requests;
  }

  const saveCheckpoint = (at: bigint) => readStore.bulkWrite([], { name: PEER_GROUP_SYNC_CHECKPOINT, position: positionToString(at) });

  // Taken, not done: the checkpoint moves past a trigger once it is queued; one in flight at a crash is the restart
  // rule's, never run again.
  const follower = eventFollower({
    eventStore,
    readStore,
    checkpoint: PEER_GROUP_SYNC_CHECKPOINT,
    logger,
    onChunk: (chunk) => {
      if (deps.geo) for (const r of requestsIn(chunk)) void enqueue(r);
    },
  });

  const storedCheckpoint = async () => {
    const c = await readStore.getCheckpoint(PEER_GROUP_SYNC_CHECKPOINT);
    return c === null ? 0n : positionFromString(c);
  };

  return {
    name: PEER_GROUP_SYNC,
    async start() {
      stopping = false;
      const from = await storedCheckpoint();
      await recover();
      await follower.start(from);
    },
    async stop() {
      stopping = true;
      await follower.stop();
      await Promise.allSettled([...running]);
    },
    recover,
    async runOnce() {
      let at = await storedCheckpoint();
      const head = await eventStore.headPosition();
      const reports: Promise<SyncReport>[] = [];
      while (at < head) {
        const page = await eventStore.readAll({ ...(at > 0n ? { after: at } : {}), maxCount: 500 });
        if (page.length === 0) break;
        if (deps.geo) reports.push(...requestsIn(page).map(enqueue));
        at = page[page.length - 1]!.position;
      }
      await saveCheckpoint(at);
      return Promise.all(reports);
    },
    async settled() {
      if (!follower.following()) throw new Error('the sync workflow is not following; start() it first');
      for (;;) {
        const head = await eventStore.headPosition();
        if (follower.position() < head) await follower.reached(head);
        await Promise.all([...running]);
        if (stopping || (running.size === 0 && (await eventStore.headPosition()) === head)) return;
      }
    },
  };
}

/** The sync workflow (add it to WORKFLOWS). */
export const peerGroupSync = (deps: WorkflowDeps): Workflow => createPeerGroupSync(deps);
