// Pod manager commands: a unique name and URL (reservations; Valence's "duplicated name or url !"), the password
// sealed before it reaches an event, and the pod manager's status probed with the credentials given.
import { randomUUID } from 'node:crypto';
import type { EventStore } from '../../adapters/eventstore/port.js';
import type { ReadStore } from '../../adapters/readstore/port.js';
import type { PodManagerProbe } from '../../adapters/podManager/redfishProbe.js';
import type { SecretBox } from '../../adapters/secrets/secretBox.js';
import { ValidationError } from '../../domain/core/errors.js';
import type { UpcasterRegistry } from '../../domain/core/upcasting.js';
import {
  DUPLICATE_POD_MANAGER,
  podManagerDecider,
  podManagerStream,
  validateNewPodManager,
  validatePodManagerChanges,
  type PodManagerState,
} from '../../domain/composable/podManager.js';
import { aggregateStream } from '../core/aggregateStream.js';
import { deterministicUuid, type CommandContext } from '../core/context.js';
import { decideOn, type WriteResult } from '../core/decideOn.js';
import type { Handle } from '../core/handler.js';
import { latestPosition } from '../core/renaming.js';
import type { Uniqueness } from '../core/uniqueness.js';

export const POD_MANAGERS = 'pod_managers';
const NAME_SCOPE = 'podManagerName';
const URL_SCOPE = 'podManagerUrl';

export interface PodManagerCommandDeps {
  handle: Handle;
  uniqueness: Uniqueness;
  eventStore: EventStore;
  readStore: ReadStore;
  upcasters: UpcasterRegistry;
  secrets: Pick<SecretBox, 'seal' | 'open'>;
  probe: PodManagerProbe;
}

export function podManagerCommands(deps: PodManagerCommandDeps) {
  const { uniqueness, readStore } = deps;
  const load = (uuid: string) => aggregateStream(deps.eventStore, deps.upcasters, podManagerStream(uuid), podManagerDecider);
  const decidePodm = decideOn(deps.handle, podManagerStream, podManagerDecider);
  const holds = (field: 'name' | 'url', value: string) => async (holder: string) => {
    const { state } = await load(holder);
    return state.status === 'active' && state[field] === value;
  };

  async function register(input: Record<string, unknown>, ctx: CommandContext): Promise<WriteResult<PodManagerState>> {
    const { fields, password } = validateNewPodManager(input);
    if (!ctx.idempotency && (await readStore.count(POD_MANAGERS, { $or: [{ name: fields.name }, { url: fields.url }] })) > 0) {
      throw new ValidationError(DUPLICATE_POD_MANAGER);
    }
    const uuid = ctx.idempotency ? deterministicUuid(ctx.idempotency.scope, ctx.idempotency.key, 'pod-manager') : randomUUID();
    const byName = await uniqueness.reserve({ scope: NAME_SCOPE, value: fields.name, holder: uuid, context: ctx, stillHeld: holds('name', fields.name) });
    if (!byName.reserved) throw new ValidationError(DUPLICATE_POD_MANAGER);
    const byUrl = await uniqueness.reserve({ scope: URL_SCOPE, value: fields.url, holder: uuid, context: ctx, stillHeld: holds('url', fields.url) });
    if (!byUrl.reserved) {
      await uniqueness.release(NAME_SCOPE, fields.name, uuid, ctx).catch(() => undefined);
      throw new ValidationError(DUPLICATE_POD_MANAGER);
    }
    const status = await deps.probe(fields.url, fields.username, password);
    const r = await decidePodm(uuid, { type: 'RegisterPodManager', fields: { uuid, ...fields }, password: deps.secrets.seal(password), status, at: ctx.now.toISOString() }, ctx);
    return { ...r, position: latestPosition(byName.position, byUrl.position, r.position) };
  }

  /** PATCH: a rename moves the name's reservation; new credentials are sealed and probed. */
  async function update(uuid: string, input: Record<string, unknown>, ctx: CommandContext): Promise<WriteResult<PodManagerState>> {
    const { state } = await load(uuid);
    if (state.status !== 'active') return decidePodm(uuid, { type: 'UpdatePodManager', changes: {}, at: ctx.now.toISOString() }, ctx);
    const { changes, password } = validatePodManagerChanges(input);
    let reserved: bigint | undefined;
    if (changes.name !== undefined && changes.name !== state.name) {
      const r = await uniqueness.reserve({ scope: NAME_SCOPE, value: changes.name, holder: uuid, context: ctx, stillHeld: holds('name', changes.name) });
      if (!r.reserved) throw new ValidationError(DUPLICATE_POD_MANAGER);
      reserved = r.position;
    }
    const at = ctx.now.toISOString();
    const r = await decidePodm(uuid, { type: 'UpdatePodManager', changes, ...(password ? { password: deps.secrets.seal(password) } : {}), at }, ctx);
    if (reserved !== undefined) await uniqueness.release(NAME_SCOPE, state.name, uuid, ctx).catch(() => undefined);
    if (!password) return { ...r, position: latestPosition(reserved, r.position) };
    const status = await deps.probe(state.url, changes.username ?? state.username, password);
    const s = await decidePodm(uuid, { type: 'RecordPodManagerStatus', status, at }, ctx);
    return { ...s, position: latestPosition(reserved, r.position, s.position) };
  }

  async function remove(uuid: string, ctx: CommandContext): Promise<WriteResult<PodManagerState>> {
    const r = await decidePodm(uuid, { type: 'DeletePodManager', at: ctx.now.toISOString() }, ctx);
    if (r.state.status !== 'deleted') return r;
    const a = await uniqueness.release(NAME_SCOPE, r.state.name, uuid, ctx);
    const b = await uniqueness.release(URL_SCOPE, r.state.url, uuid, ctx);
    return { ...r, position: latestPosition(r.position, a, b) };
  }

  return { register, update, remove, load };
}

export type PodManagerCommands = ReturnType<typeof podManagerCommands>;
