// The association status push (dcmanager's system_peer_manager.update_sync_status, spec §3.5): a primary association's
// sync status, once recorded here, is pushed to the peer's non-primary association of the same group. The local
// event is the truth; this reactor only propagates it. domain/distcloud/peerPropagation.ts holds the rules; this file
// decides when, and makes the calls:
//
//  1. the peer's system peer for this site (GET /system-peers/{local uuid}) → its id;
//  2. the peer's group by this group's name → its id;
//  3. the peer's association of the two (GET /peer-group-associations) → PATCH {sync_status} if its `sync-status`
//     differs. No system peer, group or association there → nothing: the sync workflow creates them.
//  Any failure → the local association `failed` with "Failed to Update Peer Site (<uuid>) Association sync_status to
//  <X>." (unless already failed).
//
// When: it follows `$all` from its checkpoint `workflow.associationStatusPush` (read store) and takes
// PeerGroupAssociationSyncStatusChanged. It pushes the association's status *now* (read from its stream), not the
// event's, so a stale event pushes the latest status, and several events of one association in a chunk push once.
// It pushes only while the association is primary and its system peer is `available` (the peer's stream, not its
// read model, which may lag): statuses the peer monitor sets while the peer is lost are not pushed; the ones it sets
// when the peer answers again (after recording it available) are.
//
// Not taken: events written by the sync workflow (it PATCHes the peer's association itself, before its local status)
// or its restart rule (dcmanager fails those locally only), and this workflow's own `failed` (no push loop; the peer's
// side holds non-primary associations only, which push nothing back).
//
// At least once: the checkpoint moves after a chunk's pushes ended; a chunk delivered again after a crash pushes
// again, which is harmless (the peer's status is compared first, and the failure is keyed by the event).
import type { Logger } from 'pino';
import type { RecordedEvent } from '../adapters/eventstore/port.js';
import { positionFromString, positionToString } from '../adapters/eventstore/port.js';
import { peerDcmanager } from '../adapters/peer/peerDcmanager.js';
import { aggregateStream } from '../commands/core/aggregateStream.js';
import { systemContext } from '../commands/core/context.js';
import { peerGroupAssociationDecider, peerGroupAssociationStream, type AssociationSyncStatus } from '../domain/distcloud/peerGroupAssociation.js';
import { afterFailedPush, peerNeedsStatus, statusPushWanted, STATUS_PUSH_TRIGGER } from '../domain/distcloud/peerPropagation.js';
import { subcloudPeerGroupDecider, subcloudPeerGroupStream } from '../domain/distcloud/subcloudPeerGroup.js';
import { systemPeerDecider, systemPeerStream } from '../domain/distcloud/systemPeer.js';
import { PEER_GROUP_SYNC } from './peerGroupSync.js';
import { eventFollower } from './eventFollower.js';
import type { Workflow, WorkflowDeps } from './workflow.js';

export const ASSOCIATION_STATUS_PUSH = 'association-status-push';
export const ASSOCIATION_STATUS_PUSH_CHECKPOINT = 'workflow.associationStatusPush';
const ASSOCIATION_PREFIX = 'peerGroupAssociation-';
/** Writers whose status changes are not pushed (see the header). */
const NOT_PUSHED_ACTORS = new Set([PEER_GROUP_SYNC, ASSOCIATION_STATUS_PUSH]);

export interface AssociationStatusPushOptions {
  /** Per call on the peer (default: the session's, dcmanager's 600 s). */
  requestTimeoutMs?: number;
}

export type PushOutcome =
  /** Not primary, gone, or its peer not available. */
  | 'skipped'
  /** The peer has no system peer for this site, group of that name or association of the two. */
  | 'absent-on-peer'
  /** The peer's association already had the status. */
  | 'unchanged'
  | 'pushed'
  | 'failed';

export interface PushReport {
  associationId: number;
  /** The event that asked (the last of its association in the chunk). */
  eventId: string;
  outcome: PushOutcome;
  /** The status pushed (or tried). */
  syncStatus?: AssociationSyncStatus;
}

export interface AssociationStatusPush extends Workflow {
  /** Without a subscription: takes the events from the checkpoint to the head, pushes, moves the checkpoint (tests). */
  runOnce(): Promise<PushReport[]>;
  /** After start(): resolves once everything appended so far has been taken and pushed. */
  settled(): Promise<void>;
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

export function createAssociationStatusPush(deps: WorkflowDeps, options: AssociationStatusPushOptions = {}): AssociationStatusPush {
  const { eventStore, readStore, upcasters, clock } = deps;
  const logger: Logger = deps.logger.child({ workflow: ASSOCIATION_STATUS_PUSH });
  let stopping = false;

  /** Per association, the last event of the chunk that asks for a push. */
  function requestsIn(chunk: RecordedEvent[]): Map<number, string> {
    const requests = new Map<number, string>();
    for (const e of chunk) {
      if (e.type !== STATUS_PUSH_TRIGGER || !e.streamId.startsWith(ASSOCIATION_PREFIX)) continue;
      if (NOT_PUSHED_ACTORS.has(e.metadata.actor.name)) continue;
      requests.set(Number(e.streamId.slice(ASSOCIATION_PREFIX.length)), e.id);
    }
    return requests;
  }

  async function push(associationId: number, eventId: string): Promise<PushReport> {
    const geo = deps.geo!;
    const report = (outcome: PushOutcome, syncStatus?: AssociationSyncStatus): PushReport => ({
      associationId,
      eventId,
      outcome,
      ...(syncStatus ? { syncStatus } : {}),
    });
    const { state: association } = await aggregateStream(eventStore, upcasters, peerGroupAssociationStream(associationId), peerGroupAssociationDecider);
    if (association.status !== 'active') return report('skipped');
    const peerAt = await aggregateStream(eventStore, upcasters, systemPeerStream(association.systemPeerId), systemPeerDecider);
    const peer = peerAt.state;
    if (peer.status !== 'active' || !statusPushWanted(association, peer.availabilityState)) return report('skipped');
    const { state: group } = await aggregateStream(eventStore, upcasters, subcloudPeerGroupStream(association.peerGroupId), subcloudPeerGroupDecider);
    if (group.status !== 'active') return report('skipped');

    const status = association.syncStatus;
    const log = logger.child({ associationId, peer: peer.peerName, peerGroup: group.peerGroupName });
    try {
      const session = geo.directory.sessionFor({ ...peer, revision: Number(peerAt.revision) });
      const client = peerDcmanager(session, options.requestTimeoutMs !== undefined ? { timeoutMs: options.requestTimeoutMs } : {});
      const back = await client.systemPeer(geo.localSystem().uuid);
      const peerGroup = back ? await client.peerGroup(group.peerGroupName) : undefined;
      const peerAssociation = back && peerGroup ? await client.findAssociation(peerGroup.id, back.id) : undefined;
      if (!peerAssociation) return report('absent-on-peer', status);
      if (!peerNeedsStatus(peerAssociation['sync-status'], status)) return report('unchanged', status);
      await client.setAssociationSyncStatus(peerAssociation.id, status);
      return report('pushed', status);
    } catch (err) {
      log.warn({ err: errorText(err), syncStatus: status }, "the association's sync status could not be pushed to the peer site");
      // The status now, not the one read before the calls: a failure is recorded over what is there.
      const { state: now } = await aggregateStream(eventStore, upcasters, peerGroupAssociationStream(associationId), peerGroupAssociationDecider);
      const failed = now.status === 'active' ? afterFailedPush(now.syncStatus, peer.peerUuid, status) : undefined;
      if (failed) {
        await geo.associations.setSyncStatus(
          associationId,
          failed.syncStatus,
          failed.syncMessage,
          systemContext(clock.now(), ASSOCIATION_STATUS_PUSH, `${associationId}:${eventId}:push-failed`),
        );
      }
      return report('failed', status);
    }
  }

  /** A chunk's pushes: associations side by side; any error recording is logged, never stops the stream. */
  async function handle(chunk: RecordedEvent[]): Promise<PushReport[]> {
    if (!deps.geo) return [];
    const requests = [...requestsIn(chunk)];
    const reports = await Promise.all(
      requests.map(([id, eventId]) =>
        push(id, eventId).catch((err: unknown): PushReport => {
          logger.error({ err, associationId: id }, 'association status push could not be recorded');
          return { associationId: id, eventId, outcome: 'failed' };
        }),
      ),
    );
    return reports;
  }

  const saveCheckpoint = (at: bigint) => readStore.bulkWrite([], { name: ASSOCIATION_STATUS_PUSH_CHECKPOINT, position: positionToString(at) });
  const storedCheckpoint = async () => {
    const c = await readStore.getCheckpoint(ASSOCIATION_STATUS_PUSH_CHECKPOINT);
    return c === null ? 0n : positionFromString(c);
  };

  const follower = eventFollower({
    eventStore,
    readStore,
    checkpoint: ASSOCIATION_STATUS_PUSH_CHECKPOINT,
    logger,
    onChunk: async (chunk) => {
      await handle(chunk);
    },
  });

  return {
    name: ASSOCIATION_STATUS_PUSH,
    async start() {
      stopping = false;
      // No checkpoint (a first start, or an in-memory read store after a restart): begin at the head. Replaying the
      // history would push statuses recorded long ago over what the peer set since (a non-primary's local
      // out-of-sync, spec §3.2); the statuses recorded before were pushed then, or are pushed when they next change.
      const stored = await storedCheckpoint();
      await follower.start(stored === 0n ? await eventStore.headPosition() : stored);
    },
    async stop() {
      stopping = true;
      await follower.stop();
    },
    async runOnce() {
      let at = await storedCheckpoint();
      const head = await eventStore.headPosition();
      const reports: PushReport[] = [];
      while (at < head) {
        const page = await eventStore.readAll({ ...(at > 0n ? { after: at } : {}), maxCount: 500 });
        if (page.length === 0) break;
        reports.push(...(await handle(page)));
        at = page[page.length - 1]!.position;
        await saveCheckpoint(at);
      }
      return reports;
    },
    async settled() {
      if (!follower.following()) throw new Error('the status push is not following; start() it first');
      for (;;) {
        const head = await eventStore.headPosition();
        if (follower.position() >= head || stopping) return;
        await follower.reached(head);
      }
    },
  };
}

/** The status push (add it to WORKFLOWS). */
export const associationStatusPush = (deps: WorkflowDeps): Workflow => createAssociationStatusPush(deps);
