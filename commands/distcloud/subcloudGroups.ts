// Subcloud group commands: which streams each one reads and appends to, and the cross-aggregate facts it needs.
import type { EventStore } from '../../adapters/eventstore/port.js';
import type { ReadStore } from '../../adapters/readstore/port.js';
import { ValidationError } from '../../domain/core/errors.js';
import type { UpcasterRegistry } from '../../domain/core/upcasting.js';
import {
  DEFAULT_GROUP,
  subcloudGroupDecider,
  subcloudGroupStream,
  validateGroupChanges,
  validateNewGroup,
  type GroupInput,
  type SubcloudGroupState,
} from '../../domain/distcloud/subcloudGroup.js';
import { COLLECTIONS } from '../../domain/distcloud/collections.js';
import { aggregateStream } from '../core/aggregateStream.js';
import type { CommandContext } from '../core/context.js';
import { decideOn, type WriteResult } from '../core/decideOn.js';
import type { Handle } from '../core/handler.js';
import { latestPosition, withRename } from '../core/renaming.js';
import type { Uniqueness } from '../core/uniqueness.js';

export const GROUP_NAME_SCOPE = 'subcloudGroupName';
export const GROUP_ID_SCOPE = 'subcloudGroup';
export const DUPLICATE_GROUP_NAME = 'A subcloud group with this name already exists';

export type GroupWriteResult = WriteResult<SubcloudGroupState>;

export interface SubcloudGroupCommandDeps {
  handle: Handle;
  uniqueness: Uniqueness;
  eventStore: EventStore;
  readStore: ReadStore;
  upcasters: UpcasterRegistry;
}

export function subcloudGroupCommands(deps: SubcloudGroupCommandDeps) {
  const { handle, uniqueness, readStore } = deps;

  const loadGroup = (id: number) =>
    aggregateStream(deps.eventStore, deps.upcasters, subcloudGroupStream(id), subcloudGroupDecider);

  /** A reservation is still in use while its holder group exists under that name. */
  const groupUsesName = (name: string) => async (holder: string) => {
    const { state } = await loadGroup(Number(holder));
    return state.status === 'active' && state.name === name;
  };

  /** Runs one command of the subcloud group decider on the group's stream. */
  const decideGroup = decideOn(handle, subcloudGroupStream, subcloudGroupDecider);

  const seedDefault = (ctx: CommandContext): Promise<GroupWriteResult> =>
    decideGroup(DEFAULT_GROUP.id, { type: 'SeedDefaultSubcloudGroup', at: ctx.now.toISOString() }, ctx);

  async function add(input: GroupInput | undefined, ctx: CommandContext): Promise<GroupWriteResult> {
    const fields = validateNewGroup(input);
    // Cheap early refusal; the reservation below is what makes it hold under concurrency.
    if (!ctx.idempotency && (await readStore.count(COLLECTIONS.subcloudGroups, { name: fields.name })) > 0) {
      throw new ValidationError(DUPLICATE_GROUP_NAME, 'name');
    }
    const id = await uniqueness.allocateId(GROUP_ID_SCOPE, DEFAULT_GROUP.id + 1, ctx);
    const reservation = await uniqueness.reserve({
      scope: GROUP_NAME_SCOPE,
      value: fields.name,
      holder: String(id),
      context: ctx,
      stillHeld: groupUsesName(fields.name),
    });
    if (!reservation.reserved) throw new ValidationError(DUPLICATE_GROUP_NAME, 'name');
    const r = await decideGroup(id, { type: 'AddSubcloudGroup', id, fields, at: ctx.now.toISOString() }, ctx);
    return { ...r, position: latestPosition(reservation.position, r.position) };
  }

  /** `input` has passed requireBody and `id` names an existing group (dcmanager checks in that order). */
  async function update(id: number, input: GroupInput, ctx: CommandContext, ifMatch?: bigint): Promise<GroupWriteResult> {
    const changes = validateGroupChanges(input, { id });
    // The current name matters only to a change of name. Folding the whole stream here on every update made each
    // update cost more the more updates the group had had (the handler below reads from its cached state).
    const current = changes.name !== undefined ? await loadGroup(id) : undefined;
    return withRename({
      uniqueness,
      scope: GROUP_NAME_SCOPE,
      holder: String(id),
      oldName: current?.state.status === 'active' ? current.state.name : undefined,
      newName: changes.name,
      context: ctx,
      stillHeld: groupUsesName,
      taken: () => new ValidationError(DUPLICATE_GROUP_NAME, 'name'),
      run: () => decideGroup(id, { type: 'UpdateSubcloudGroup', changes, at: ctx.now.toISOString() }, ctx, ifMatch),
      renamed: (r) => r.state.status === 'active' && r.state.name === changes.name,
    });
  }

  async function remove(id: number, ctx: CommandContext, ifMatch?: bigint): Promise<GroupWriteResult> {
    const memberCount = await readStore.count(COLLECTIONS.subclouds, { groupId: id });
    const r = await decideGroup(id, { type: 'DeleteSubcloudGroup', memberCount, at: ctx.now.toISOString() }, ctx, ifMatch);
    const released =
      r.state.status === 'deleted' ? await uniqueness.release(GROUP_NAME_SCOPE, r.state.name, String(id), ctx) : undefined;
    return { ...r, position: latestPosition(r.position, released) };
  }

  return { seedDefault, add, update, remove };
}

export type SubcloudGroupCommands = ReturnType<typeof subcloudGroupCommands>;
