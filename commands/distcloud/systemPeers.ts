// System peer commands: unique UUID and name (reservations), the manager password sealed before it reaches an event,
// and the associations that keep a peer from being deleted.
import type { EventStore } from '../../adapters/eventstore/port.js';
import type { ReadStore } from '../../adapters/readstore/port.js';
import type { SecretBox } from '../../adapters/secrets/secretBox.js';
import { ConflictError } from '../../domain/core/errors.js';
import type { UpcasterRegistry } from '../../domain/core/upcasting.js';
import { COLLECTIONS } from '../../domain/distcloud/collections.js';
import {
  systemPeerDecider,
  systemPeerStream,
  validateNewSystemPeer,
  validateSystemPeerChanges,
  type SystemPeerInput,
  type SystemPeerState,
} from '../../domain/distcloud/systemPeer.js';
import { aggregateStream } from '../core/aggregateStream.js';
import type { CommandContext } from '../core/context.js';
import { decideOn, type WriteResult } from '../core/decideOn.js';
import type { Handle } from '../core/handler.js';
import { latestPosition, withRename } from '../core/renaming.js';
import type { Uniqueness } from '../core/uniqueness.js';

export const SYSTEM_PEER_ID_SCOPE = 'systemPeer';
export const SYSTEM_PEER_UUID_SCOPE = 'systemPeerUuid';
export const SYSTEM_PEER_NAME_SCOPE = 'systemPeerName';
export const DUPLICATE_PEER_UUID = 'A system peer with this UUID already exists';
/** dcmanager answers a duplicate name with its UUID message (one database error for both); fleetledger names it. */
export const DUPLICATE_PEER_NAME = 'A system peer with this name already exists';

export interface SystemPeerCommandDeps {
  handle: Handle;
  uniqueness: Uniqueness;
  eventStore: EventStore;
  readStore: ReadStore;
  upcasters: UpcasterRegistry;
  secrets: Pick<SecretBox, 'seal'>;
}

export function systemPeerCommands(deps: SystemPeerCommandDeps) {
  const { uniqueness, readStore } = deps;
  const load = (id: number) => aggregateStream(deps.eventStore, deps.upcasters, systemPeerStream(id), systemPeerDecider);
  const decidePeer = decideOn(deps.handle, systemPeerStream, systemPeerDecider);
  const holds = (field: 'peerUuid' | 'peerName') => (value: string) => async (holder: string) => {
    const { state } = await load(Number(holder));
    return state.status === 'active' && state[field] === value;
  };

  async function add(input: SystemPeerInput | undefined, ctx: CommandContext): Promise<WriteResult<SystemPeerState>> {
    const { fields, managerPassword } = validateNewSystemPeer(input);
    // Cheap early refusals (no id spent); the reservations below are what make them hold under concurrency.
    if (!ctx.idempotency) {
      if ((await readStore.count(COLLECTIONS.systemPeers, { peerUuid: fields.peerUuid })) > 0) throw new ConflictError(DUPLICATE_PEER_UUID);
      if ((await readStore.count(COLLECTIONS.systemPeers, { peerName: fields.peerName })) > 0) throw new ConflictError(DUPLICATE_PEER_NAME);
    }
    const id = await uniqueness.allocateId(SYSTEM_PEER_ID_SCOPE, 1, ctx);
    const byUuid = await uniqueness.reserve({
      scope: SYSTEM_PEER_UUID_SCOPE,
      value: fields.peerUuid,
      holder: String(id),
      context: ctx,
      stillHeld: holds('peerUuid')(fields.peerUuid),
    });
    if (!byUuid.reserved) throw new ConflictError(DUPLICATE_PEER_UUID);
    const byName = await uniqueness.reserve({
      scope: SYSTEM_PEER_NAME_SCOPE,
      value: fields.peerName,
      holder: String(id),
      context: ctx,
      stillHeld: holds('peerName')(fields.peerName),
    });
    if (!byName.reserved) {
      await uniqueness.release(SYSTEM_PEER_UUID_SCOPE, fields.peerUuid, String(id), ctx).catch(() => undefined);
      throw new ConflictError(DUPLICATE_PEER_NAME);
    }
    const r = await decidePeer(
      id,
      { type: 'AddSystemPeer', id, fields, managerPassword: deps.secrets.seal(managerPassword!), at: ctx.now.toISOString() },
      ctx,
    );
    return { ...r, position: latestPosition(byUuid.position, byName.position, r.position) };
  }

  async function update(id: number, input: SystemPeerInput | undefined, ctx: CommandContext, ifMatch?: bigint): Promise<WriteResult<SystemPeerState>> {
    const { fields: changes, managerPassword } = validateSystemPeerChanges(input);
    const current = changes.peerUuid !== undefined || changes.peerName !== undefined ? (await load(id)).state : undefined;
    const active = current?.status === 'active' ? current : undefined;
    const rename = (scope: string, field: 'peerUuid' | 'peerName', message: string, run: () => Promise<WriteResult<SystemPeerState>>) =>
      withRename({
        uniqueness,
        scope,
        holder: String(id),
        oldName: active?.[field],
        newName: changes[field],
        context: ctx,
        stillHeld: holds(field),
        taken: () => new ConflictError(message),
        run,
        renamed: (r) => r.state.status === 'active' && r.state[field] === changes[field],
      });
    const change = () =>
      decidePeer(
        id,
        {
          type: 'UpdateSystemPeer',
          changes,
          ...(managerPassword ? { managerPassword: deps.secrets.seal(managerPassword) } : {}),
          at: ctx.now.toISOString(),
        },
        ctx,
        ifMatch,
      );
    return rename(SYSTEM_PEER_UUID_SCOPE, 'peerUuid', DUPLICATE_PEER_UUID, () => rename(SYSTEM_PEER_NAME_SCOPE, 'peerName', DUPLICATE_PEER_NAME, change));
  }

  async function remove(id: number, ctx: CommandContext, ifMatch?: bigint): Promise<WriteResult<SystemPeerState>> {
    const associationCount = await readStore.count(COLLECTIONS.peerGroupAssociations, { systemPeerId: id });
    const r = await decidePeer(id, { type: 'DeleteSystemPeer', associationCount, at: ctx.now.toISOString() }, ctx, ifMatch);
    if (r.state.status !== 'deleted') return r;
    const a = await uniqueness.release(SYSTEM_PEER_UUID_SCOPE, r.state.peerUuid, String(id), ctx);
    const b = await uniqueness.release(SYSTEM_PEER_NAME_SCOPE, r.state.peerName, String(id), ctx);
    return { ...r, position: latestPosition(r.position, a, b) };
  }

  /** From the peer monitor. */
  const recordAvailability = (id: number, availabilityState: 'available' | 'unavailable', ctx: CommandContext) =>
    decidePeer(id, { type: 'RecordPeerAvailability', availabilityState, at: ctx.now.toISOString() }, ctx);

  return { add, update, remove, recordAvailability, load };
}

export type SystemPeerCommands = ReturnType<typeof systemPeerCommands>;
