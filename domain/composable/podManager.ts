// Pod manager (Valence's `pod_managers`): a Redfish pod manager composable hardware is carved from, registered with
// its URL and the basic-auth credentials to reach it. Stream: podManager-<uuid>. The password is never in an event
// in clear: the command handler seals it (SealedSecret) and no answer shows it (Valence's api-ref masks it as ***).
import type { Decider, DomainEvent } from '../core/decider.js';
import { NotFoundError, ValidationError } from '../core/errors.js';
import type { SealedSecret } from '../core/sealed.js';

export const podManagerStream = (uuid: string) => `podManager-${uuid}`;
export const POD_MANAGER_DRIVERS = ['redfishv1', 'expether'] as const;
export type PodManagerDriver = (typeof POD_MANAGER_DRIVERS)[number];
export type PodManagerStatus = 'Online' | 'Offline';
export const podManagerNotFound = (uuid: string) => `Pod Manager ${uuid} not found in database.`;
export const DUPLICATE_POD_MANAGER = 'duplicated name or url !';

export interface PodManagerFields {
  uuid: string;
  name: string;
  url: string;
  driver: PodManagerDriver;
  username: string;
  description: string | null;
  location: string | null;
}

export type PodManagerEvent =
  | DomainEvent<'PodManagerRegistered', PodManagerFields & { password: SealedSecret; status: PodManagerStatus; at: string }>
  | DomainEvent<'PodManagerUpdated', Partial<Pick<PodManagerFields, 'name' | 'description' | 'location' | 'username'>> & { password?: SealedSecret; at: string }>
  | DomainEvent<'PodManagerStatusChanged', { status: PodManagerStatus; at: string }>
  | DomainEvent<'PodManagerDeleted', { at: string }>;

export type PodManagerCommand =
  | { type: 'RegisterPodManager'; fields: PodManagerFields; password: SealedSecret; status: PodManagerStatus; at: string }
  | { type: 'UpdatePodManager'; changes: PodManagerChanges; password?: SealedSecret; at: string }
  | { type: 'RecordPodManagerStatus'; status: PodManagerStatus; at: string }
  | { type: 'DeletePodManager'; at: string };

export type PodManagerState =
  | { status: 'absent' }
  | ({ status: 'active' | 'deleted'; password: SealedSecret; podmStatus: PodManagerStatus; createdAt: string; updatedAt: string | null } & PodManagerFields);

export const initialState = (): PodManagerState => ({ status: 'absent' });

// ---- input (Valence's podmanager_schema; messages in jsonschema's words) ----
export interface PodManagerInput {
  name?: unknown;
  url?: unknown;
  driver?: unknown;
  authentication?: unknown;
  description?: unknown;
  location?: unknown;
}
export interface PodManagerChanges {
  name?: string;
  description?: string;
  location?: string;
  username?: string;
}

const required = (field: string) => new ValidationError(`'${field}' is a required property`, field);
const repr = (v: unknown) => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v));

/** The one basic-auth entry Valence uses: `[{type: "basic", auth_items: {username, password}}]`. */
function credentials(v: unknown): { username: string; password: string } {
  if (!Array.isArray(v)) throw new ValidationError(`${repr(v)} is not of type 'array'`, 'authentication');
  if (v.length === 0) throw new ValidationError('[] is too short', 'authentication');
  const entry = v.find((e) => typeof e === 'object' && e !== null && (e as { type?: unknown }).type === 'basic') as
    | { auth_items?: { username?: unknown; password?: unknown } }
    | undefined;
  if (!entry) throw new ValidationError(`${repr((v[0] as { type?: unknown })?.type)} is not one of ['basic']`, 'authentication.type');
  const items = entry.auth_items;
  if (typeof items !== 'object' || items === null) throw required('auth_items');
  if (typeof items.username !== 'string' || !items.username) throw required('username');
  if (typeof items.password !== 'string' || !items.password) throw required('password');
  return { username: items.username, password: items.password };
}

const ALLOWED_KEYS = ['name', 'url', 'driver', 'authentication', 'description', 'location'];

/** POST: name, url (http/https) and basic credentials required; driver defaults to redfishv1; no other key. */
export function validateNewPodManager(input: Record<string, unknown>): { fields: Omit<PodManagerFields, 'uuid'>; password: string } {
  const extra = Object.keys(input).filter((k) => !ALLOWED_KEYS.includes(k));
  if (extra.length) throw new ValidationError(`Additional properties are not allowed (${extra.map((k) => `'${k}'`).join(', ')} ${extra.length > 1 ? 'were' : 'was'} unexpected)`, extra[0]);
  const { name, url } = input;
  if (name === undefined) throw required('name');
  if (typeof name !== 'string' || !name) throw new ValidationError(`${repr(name)} is not of type 'string'`, 'name');
  if (url === undefined) throw required('url');
  if (typeof url !== 'string' || !/^https?:\/\/[^\s/?#]+/.test(url)) throw new ValidationError(`${repr(url)} is not a 'uri'`, 'url');
  if (input.authentication === undefined) throw required('authentication');
  const { username, password } = credentials(input.authentication);
  const driver = input.driver ?? 'redfishv1';
  if (!(POD_MANAGER_DRIVERS as readonly unknown[]).includes(driver)) {
    throw new ValidationError(`${repr(driver)} is not one of ['redfishv1', 'expether']`, 'driver');
  }
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    fields: { name, url: url.replace(/\/+$/, ''), driver: driver as PodManagerDriver, username, description: text(input.description), location: text(input.location) },
    password,
  };
}

/** PATCH: name, description, location and the credentials; `uuid` and `url` are ignored, as are unknown keys. */
export function validatePodManagerChanges(input: Record<string, unknown>): { changes: PodManagerChanges; password?: string } {
  const changes: PodManagerChanges = {};
  for (const key of ['name', 'description', 'location'] as const) {
    const v = input[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || (key === 'name' && !v)) throw new ValidationError(`${repr(v)} is not of type 'string'`, key);
    changes[key] = v;
  }
  if (input.authentication === undefined) return { changes };
  const { username, password } = credentials(input.authentication);
  return { changes: { ...changes, username }, password };
}

// ---- decide / evolve ----
function requireActive(state: PodManagerState, uuid = '') {
  if (state.status !== 'active') throw new NotFoundError(podManagerNotFound(uuid));
  return state;
}

export function decide(command: PodManagerCommand, state: PodManagerState): PodManagerEvent[] {
  switch (command.type) {
    case 'RegisterPodManager':
      if (state.status !== 'absent') throw new ValidationError(DUPLICATE_POD_MANAGER);
      return [{ type: 'PodManagerRegistered', data: { ...command.fields, password: command.password, status: command.status, at: command.at } }];
    case 'UpdatePodManager': {
      const s = requireActive(state);
      const changed = Object.fromEntries(Object.entries(command.changes).filter(([k, v]) => s[k as keyof PodManagerChanges] !== v));
      if (Object.keys(changed).length === 0 && !command.password) return [];
      return [{ type: 'PodManagerUpdated', data: { ...changed, ...(command.password ? { password: command.password } : {}), at: command.at } }];
    }
    case 'RecordPodManagerStatus': {
      const s = requireActive(state);
      return s.podmStatus === command.status ? [] : [{ type: 'PodManagerStatusChanged', data: { status: command.status, at: command.at } }];
    }
    case 'DeletePodManager':
      requireActive(state);
      return [{ type: 'PodManagerDeleted', data: { at: command.at } }];
  }
}

export function evolve(state: PodManagerState, event: PodManagerEvent): PodManagerState {
  switch (event.type) {
    case 'PodManagerRegistered': {
      const { at, status, ...fields } = event.data;
      return { status: 'active', ...fields, podmStatus: status, createdAt: at, updatedAt: null };
    }
    case 'PodManagerUpdated': {
      if (state.status === 'absent') return state;
      const { at, ...changes } = event.data;
      return { ...state, ...changes, updatedAt: at };
    }
    case 'PodManagerStatusChanged':
      return state.status === 'absent' ? state : { ...state, podmStatus: event.data.status, updatedAt: event.data.at };
    case 'PodManagerDeleted':
      return state.status === 'absent' ? state : { ...state, status: 'deleted', updatedAt: event.data.at };
  }
}

export const podManagerDecider: Decider<PodManagerState, PodManagerCommand, PodManagerEvent> = { decide, evolve, initialState };
