// Peer group association commands: the group and the peer must exist, one association per (group, peer), and the
// sync requests the sync workflow carries out.
import type { EventStore } from '../../adapters/eventstore/port.js';
import type { ReadStore } from '../../adapters/readstore/port.js';
import { ValidationError } from '../../domain/core/errors.js';
import { pythonInt } from '../../domain/core/pythonInt.js';
import type { UpcasterRegistry } from '../../domain/core/upcasting.js';
import { COLLECTIONS } from '../../domain/distcloud/collections.js';
import type { LocalSystem } from '../../domain/distcloud/localSystem.js';
import {
  DUPLICATE_ASSOCIATION,
  NO_SYNC_MESSAGE,
  peerGroupAssociationDecider,
  peerGroupAssociationStream,
  pushedSyncMessage,
  validateAssociationUpdate,
  validateNewAssociation,
  validateSyncRequest,
  type AssociationInput,
  type AssociationSyncStatus,
  type PeerGroupAssociationState,
} from '../../domain/distcloud/peerGroupAssociation.js';
import type { PeerGroupAssociationDoc } from '../../projections/distcloud/peerGroupAssociations.js';
import type { SubcloudPeerGroupDoc } from '../../projections/distcloud/subcloudPeerGroups.js';
import type { SystemPeerDoc } from '../../projections/distcloud/systemPeers.js';
import type { CommandContext } from '../core/context.js';
import { decideOn, type WriteResult } from '../core/decideOn.js';
import type { Handle } from '../core/handler.js';
import { aggregateStream } from '../core/aggregateStream.js';
import { latestPosition } from '../core/renaming.js';
import type { Uniqueness } from '../core/uniqueness.js';

export const ASSOCIATION_ID_SCOPE = 'peerGroupAssociation';
export const ASSOCIATION_PAIR_SCOPE = 'peerGroupAssociationPair';
export const PEER_UNREACHABLE_MESSAGE = 'Failed to update sync_status, because the peer site is unreachable.';

export interface PeerGroupAssociationCommandDeps {
  handle: Handle;
  uniqueness: Uniqueness;
  eventStore: EventStore;
  readStore: ReadStore;
  upcasters: UpcasterRegistry;
  localSystem: () => LocalSystem;
}

export function peerGroupAssociationCommands(deps: PeerGroupAssociationCommandDeps) {
  const { uniqueness, readStore } = deps;
  const load = (id: number) => aggregateStream(deps.eventStore, deps.upcasters, peerGroupAssociationStream(id), peerGroupAssociationDecider);
  const decideAssociation = decideOn(deps.handle, peerGroupAssociationStream, peerGroupAssociationDecider);
  const byId = async <T>(collection: string, ref: unknown): Promise<T | undefined> => {
    const id = pythonInt(ref);
    return id === undefined || id < 1 ? undefined : ((await readStore.get<T & { _id: string }>(collection, String(id))) ?? undefined);
  };

  async function add(input: AssociationInput | undefined, ctx: CommandContext): Promise<WriteResult<PeerGroupAssociationState>> {
    const group = input && Object.keys(input).length > 0 ? await byId<SubcloudPeerGroupDoc>(COLLECTIONS.subcloudPeerGroups, input.peer_group_id) : undefined;
    const peer = group ? await byId<SystemPeerDoc>(COLLECTIONS.systemPeers, input!.system_peer_id) : undefined;
    const fields = validateNewAssociation(input, group, peer);
    const pair = `${fields.peerGroupId}:${fields.systemPeerId}`;
    if (!ctx.idempotency && (await readStore.count(COLLECTIONS.peerGroupAssociations, { peerGroupId: fields.peerGroupId, systemPeerId: fields.systemPeerId })) > 0) {
      throw new ValidationError(DUPLICATE_ASSOCIATION);
    }
    const id = await uniqueness.allocateId(ASSOCIATION_ID_SCOPE, 1, ctx);
    const reservation = await uniqueness.reserve({
      scope: ASSOCIATION_PAIR_SCOPE,
      value: pair,
      holder: String(id),
      context: ctx,
      stillHeld: async (holder) => (await load(Number(holder))).state.status === 'active',
    });
    if (!reservation.reserved) throw new ValidationError(DUPLICATE_ASSOCIATION);
    const r = await decideAssociation(id, { type: 'AddPeerGroupAssociation', id, fields, at: ctx.now.toISOString() }, ctx);
    return { ...r, position: latestPosition(reservation.position, r.position) };
  }

  /** PATCH /{id}: a primary's new priority (then its group is pushed again), or the status a primary pushes here. */
  async function update(
    current: { id: number; associationType: 'primary' | 'non-primary' },
    input: AssociationInput | undefined,
    ctx: CommandContext,
  ): Promise<WriteResult<PeerGroupAssociationState>> {
    const change = validateAssociationUpdate(input, current.associationType);
    const at = ctx.now.toISOString();
    if (change.kind === 'syncStatus') {
      return setSyncStatus(current.id, change.syncStatus, pushedSyncMessage(change.syncStatus), ctx);
    }
    const a = await decideAssociation(current.id, { type: 'ChangeAssociationPriority', peerGroupPriority: change.peerGroupPriority, at }, ctx);
    const b = await decideAssociation(current.id, { type: 'RequestAssociationSync', syncSubclouds: false, at }, ctx);
    return { ...b, position: latestPosition(a.position, b.position) };
  }

  /** PATCH /{id}/sync. */
  async function requestSync(
    current: { id: number; associationType: 'primary' | 'non-primary' },
    group: { systemLeaderId: string } | undefined,
    ctx: CommandContext,
  ): Promise<WriteResult<PeerGroupAssociationState>> {
    validateSyncRequest(current.associationType, group?.systemLeaderId === deps.localSystem().uuid);
    return decideAssociation(current.id, { type: 'RequestAssociationSync', syncSubclouds: true, at: ctx.now.toISOString() }, ctx);
  }

  const setSyncStatus = (id: number, syncStatus: AssociationSyncStatus, syncMessage: string, ctx: CommandContext) =>
    decideAssociation(id, { type: 'SetAssociationSyncStatus', syncStatus, syncMessage, at: ctx.now.toISOString() }, ctx);

  /**
   * A subcloud of the group changed (dcmanager's update_association_sync_status on the primary site): each primary
   * association of the group becomes `status`, except one whose peer was unreachable (`unknown`), which fails. With
   * localOnly (the non-primary exception of §3.2) every association of the group here becomes `status`, and nothing
   * is pushed. Returns the ids made out-of-sync, for the answer's info_message. `systemPeerId` limits it to the
   * group's association with that peer (the peer group audit speaks for one peer only).
   */
  async function markGroupSyncStatus(groupId: number, status: AssociationSyncStatus, ctx: CommandContext, localOnly = false, systemPeerId?: number) {
    const filter = systemPeerId === undefined ? { peerGroupId: groupId } : { peerGroupId: groupId, systemPeerId };
    const docs = await readStore.find<PeerGroupAssociationDoc>(COLLECTIONS.peerGroupAssociations, filter, { sort: { id: 1 } });
    const changed: number[] = [];
    let position: bigint | undefined;
    for (const a of docs) {
      if (!localOnly && a.associationType !== 'primary') continue;
      let r: WriteResult<PeerGroupAssociationState> | undefined;
      if (!localOnly && a.syncStatus === 'unknown' && status !== 'in-sync') {
        r = await setSyncStatus(a.id, 'failed', PEER_UNREACHABLE_MESSAGE, ctx);
      } else if (a.syncStatus !== status) {
        r = await setSyncStatus(a.id, status, NO_SYNC_MESSAGE, ctx);
        if (status === 'out-of-sync') changed.push(a.id);
      }
      position = latestPosition(position, r?.position);
    }
    return { changed, position };
  }

  async function remove(id: number, ctx: CommandContext): Promise<WriteResult<PeerGroupAssociationState>> {
    const r = await decideAssociation(id, { type: 'DeletePeerGroupAssociation', at: ctx.now.toISOString() }, ctx);
    if (r.state.status !== 'deleted') return r;
    const pair = `${r.state.peerGroupId}:${r.state.systemPeerId}`;
    const released = await uniqueness.release(ASSOCIATION_PAIR_SCOPE, pair, String(id), ctx);
    return { ...r, position: latestPosition(r.position, released) };
  }

  return { add, update, requestSync, setSyncStatus, markGroupSyncStatus, remove, load };
}

export type PeerGroupAssociationCommands = ReturnType<typeof peerGroupAssociationCommands>;
