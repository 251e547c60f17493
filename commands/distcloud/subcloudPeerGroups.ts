// Subcloud peer group commands: a unique name, this site as the default leader, and the associations that keep a
// group from being deleted.
import { randomUUID } from 'node:crypto';
import type { EventStore } from '../../adapters/eventstore/port.js';
import type { SecretBox } from '../../adapters/secrets/secretBox.js';
import { planMigration } from '../../domain/distcloud/peerGroupMigration.js';
import type { SubcloudDoc } from '../../projections/distcloud/subclouds.js';
import type { ReadStore } from '../../adapters/readstore/port.js';
import { ConflictError } from '../../domain/core/errors.js';
import type { UpcasterRegistry } from '../../domain/core/upcasting.js';
import { COLLECTIONS } from '../../domain/distcloud/collections.js';
import type { LocalSystem } from '../../domain/distcloud/localSystem.js';
import {
  subcloudPeerGroupDecider,
  subcloudPeerGroupStream,
  validateNewPeerGroup,
  validatePeerGroupChanges,
  type MigrationStatus,
  type PeerGroupInput,
  type PeerGroupLeader,
  type SubcloudPeerGroupState,
} from '../../domain/distcloud/subcloudPeerGroup.js';
import { aggregateStream } from '../core/aggregateStream.js';
import { deterministicUuid, type CommandContext } from '../core/context.js';
import { decideOn, type WriteResult } from '../core/decideOn.js';
import type { Handle } from '../core/handler.js';
import { latestPosition, withRename } from '../core/renaming.js';
import type { Uniqueness } from '../core/uniqueness.js';

export const PEER_GROUP_ID_SCOPE = 'subcloudPeerGroup';
export const PEER_GROUP_NAME_SCOPE = 'subcloudPeerGroupName';
export const DUPLICATE_PEER_GROUP = 'A subcloud peer group with this name already exists';

export interface SubcloudPeerGroupCommandDeps {
  handle: Handle;
  uniqueness: Uniqueness;
  eventStore: EventStore;
  readStore: ReadStore;
  upcasters: UpcasterRegistry;
  /** This site's UUID and name, the leader of the groups created here. */
  localSystem: () => LocalSystem;
  /** A deleted group's subclouds belong to no group any more (dcmanager clears their peer_group_id). */
  releaseMembers?: (groupId: number, ctx: CommandContext) => Promise<bigint | undefined>;
  /** Seals a migration's sysadmin password before it goes into an event. */
  secrets?: Pick<SecretBox, 'seal'>;
}

export function subcloudPeerGroupCommands(deps: SubcloudPeerGroupCommandDeps) {
  const { uniqueness, readStore } = deps;
  const load = (id: number) => aggregateStream(deps.eventStore, deps.upcasters, subcloudPeerGroupStream(id), subcloudPeerGroupDecider);
  const decideGroup = decideOn(deps.handle, subcloudPeerGroupStream, subcloudPeerGroupDecider);
  const usesName = (name: string) => async (holder: string) => {
    const { state } = await load(Number(holder));
    return state.status === 'active' && state.peerGroupName === name;
  };

  async function add(input: PeerGroupInput | undefined, ctx: CommandContext): Promise<WriteResult<SubcloudPeerGroupState>> {
    const fields = validateNewPeerGroup(input, deps.localSystem());
    // Cheap early refusal (no id spent); the reservation below is what makes it hold under concurrency.
    if (!ctx.idempotency && (await readStore.count(COLLECTIONS.subcloudPeerGroups, { peerGroupName: fields.peerGroupName })) > 0) {
      throw new ConflictError(DUPLICATE_PEER_GROUP);
    }
    const id = await uniqueness.allocateId(PEER_GROUP_ID_SCOPE, 1, ctx);
    const reservation = await uniqueness.reserve({
      scope: PEER_GROUP_NAME_SCOPE,
      value: fields.peerGroupName,
      holder: String(id),
      context: ctx,
      stillHeld: usesName(fields.peerGroupName),
    });
    if (!reservation.reserved) throw new ConflictError(DUPLICATE_PEER_GROUP);
    const r = await decideGroup(id, { type: 'AddSubcloudPeerGroup', id, fields, at: ctx.now.toISOString() }, ctx);
    return { ...r, position: latestPosition(reservation.position, r.position) };
  }

  /** `current`: the group as the caller found it (its priority decides whether this site may change it). */
  async function update(
    current: { id: number; groupPriority: number; peerGroupName: string },
    input: PeerGroupInput | undefined,
    ctx: CommandContext,
    fromAnotherDc: boolean,
    ifMatch?: bigint,
  ): Promise<WriteResult<SubcloudPeerGroupState>> {
    const changes = validatePeerGroupChanges(input, current, fromAnotherDc);
    const id = current.id;
    return withRename({
      uniqueness,
      scope: PEER_GROUP_NAME_SCOPE,
      holder: String(id),
      oldName: current.peerGroupName,
      newName: changes.peerGroupName,
      context: ctx,
      stillHeld: usesName,
      taken: () => new ConflictError(DUPLICATE_PEER_GROUP),
      run: () => decideGroup(id, { type: 'UpdateSubcloudPeerGroup', changes, fromAnotherDc, at: ctx.now.toISOString() }, ctx, ifMatch),
      renamed: (r) => r.state.status === 'active' && r.state.peerGroupName === changes.peerGroupName,
    });
  }

  async function remove(id: number, ctx: CommandContext, ifMatch?: bigint): Promise<WriteResult<SubcloudPeerGroupState>> {
    const associationCount = await readStore.count(COLLECTIONS.peerGroupAssociations, { peerGroupId: id });
    const r = await decideGroup(id, { type: 'DeleteSubcloudPeerGroup', associationCount, at: ctx.now.toISOString() }, ctx, ifMatch);
    if (r.state.status !== 'deleted') return r;
    const released = await uniqueness.release(PEER_GROUP_NAME_SCOPE, r.state.peerGroupName, String(id), ctx);
    const members = await deps.releaseMembers?.(id, ctx);
    return { ...r, position: latestPosition(r.position, released, members) };
  }

  /** From a migration or the audit. */
  const changeLeader = (id: number, leader: PeerGroupLeader, ctx: CommandContext) =>
    decideGroup(id, { type: 'ChangePeerGroupLeader', leader, at: ctx.now.toISOString() }, ctx);
  const setMigrationStatus = (id: number, migrationStatus: MigrationStatus, ctx: CommandContext) =>
    decideGroup(id, { type: 'SetPeerGroupMigrationStatus', migrationStatus, at: ctx.now.toISOString() }, ctx);

  /**
   * PATCH /{ref}/migrate: the request's checks against the group's members as the read model has them, then the
   * start event (the password sealed); the migration workflow does the rest. Returns the members it will migrate.
   */
  async function startMigration(group: { id: number; peerGroupName: string }, input: { sysadmin_password?: unknown } | undefined, ctx: CommandContext) {
    const members = await readStore.find<SubcloudDoc>(COLLECTIONS.subclouds, { peerGroupId: group.id }, { sort: { id: 1 } });
    const plan = planMigration(input, group, members);
    if (!deps.secrets) throw new Error('subcloud peer group commands: no secret box to seal the sysadmin password');
    const migrationId = ctx.idempotency ? deterministicUuid(ctx.idempotency.scope, ctx.idempotency.key, 'migration') : randomUUID();
    const ids = new Set(plan.eligible.map((m) => m.id));
    const r = await decideGroup(
      group.id,
      { type: 'StartPeerGroupMigration', migrationId, subcloudIds: [...ids], sysadminPassword: deps.secrets.seal(plan.sysadminPassword), at: ctx.now.toISOString() },
      ctx,
    );
    return { ...r, subclouds: members.filter((m) => ids.has(m.id)) };
  }

  const completeMigration = (id: number, migrationId: string, leader: PeerGroupLeader, ctx: CommandContext) =>
    decideGroup(id, { type: 'CompletePeerGroupMigration', migrationId, leader, at: ctx.now.toISOString() }, ctx);

  return { add, update, remove, changeLeader, setMigrationStatus, startMigration, completeMigration, load };
}

export type SubcloudPeerGroupCommands = ReturnType<typeof subcloudPeerGroupCommands>;
