// System peer: another site (system controller) this one protects subclouds with (dcmanager `system-peers`).
// Stream: systemPeer-<id>. The manager password arrives base64-encoded (as the dcmanager CLI sends it) and is kept
// only sealed; the peer monitor records the peer's availability here.
import type { Decider, DomainEvent } from '../core/decider.js';
import { NotFoundError, ValidationError } from '../core/errors.js';
import { intInRange } from '../core/pythonInt.js';
import { requireBody } from '../core/body.js';
import { changedFields } from '../core/changes.js';
import type { SealedSecret } from '../core/sealed.js';
import { parseAddress } from './subcloudNetwork.js';

export const systemPeerStream = (id: number) => `systemPeer-${id}`;

const STRING_MAX = 255; // dcmanager refuses 255 characters and more
const ADMINISTRATIVE_STATES = ['enabled', 'disabled'] as const;
const FAILURE_POLICIES = ['alarm', 'rehome', 'delegate'] as const;
export const HEARTBEAT_INTERVAL = { min: 10, max: 600, default: 60 } as const;
export const HEARTBEAT_FAILURE_THRESHOLD = { min: 1, max: 30, default: 3 } as const;
export const HEARTBEAT_MAINTENANCE_TIMEOUT = { min: 300, max: 36_000, default: 600 } as const;
export type AdministrativeState = (typeof ADMINISTRATIVE_STATES)[number];
export type HeartbeatFailurePolicy = (typeof FAILURE_POLICIES)[number];
/** `created` until the peer monitor has heard from (or given up on) the peer. */
export type PeerAvailability = 'created' | 'available' | 'unavailable';

export interface SystemPeerFields {
  peerUuid: string;
  peerName: string;
  managerEndpoint: string;
  managerUsername: string;
  peerControllerGatewayAddress: string;
  administrativeState: AdministrativeState;
  heartbeatInterval: number;
  heartbeatFailureThreshold: number;
  heartbeatFailurePolicy: HeartbeatFailurePolicy;
  heartbeatMaintenanceTimeout: number;
}

// ---- events ----
export type SystemPeerEvent =
  | DomainEvent<'SystemPeerAdded', SystemPeerFields & { id: number; managerPassword: SealedSecret; at: string }>
  | DomainEvent<'SystemPeerUpdated', Partial<SystemPeerFields> & { managerPassword?: SealedSecret; at: string }>
  | DomainEvent<'SystemPeerAvailabilityChanged', { availabilityState: 'available' | 'unavailable'; previous: PeerAvailability; at: string }>
  | DomainEvent<'SystemPeerDeleted', { at: string }>;

// ---- commands ----
export type SystemPeerCommand =
  | { type: 'AddSystemPeer'; id: number; fields: SystemPeerFields; managerPassword: SealedSecret; at: string }
  | { type: 'UpdateSystemPeer'; changes: Partial<SystemPeerFields>; managerPassword?: SealedSecret; at: string }
  /** associationCount: peer group associations naming this peer, from their read model. */
  | { type: 'DeleteSystemPeer'; associationCount: number; at: string }
  /** From the peer monitor. */
  | { type: 'RecordPeerAvailability'; availabilityState: 'available' | 'unavailable'; at: string };

// ---- state ----
export type SystemPeerState =
  | { status: 'absent' }
  | ({
      status: 'active' | 'deleted';
      id: number;
      managerPassword: SealedSecret;
      availabilityState: PeerAvailability;
      createdAt: string;
      updatedAt: string | null;
    } & SystemPeerFields);

export const initialState = (): SystemPeerState => ({ status: 'absent' });

// ---- input rules (dcmanager's validators and messages, in its order) ----

const KEYS = [
  'peer_uuid',
  'peer_name',
  'manager_endpoint',
  'manager_username',
  'manager_password',
  'peer_controller_gateway_address',
  'administrative_state',
  'heartbeat_interval',
  'heartbeat_failure_threshold',
  'heartbeat_failure_policy',
  'heartbeat_maintenance_timeout',
] as const;
export type SystemPeerInput = Partial<Record<(typeof KEYS)[number], unknown>>;

const UUID = /^(urn:uuid:)?\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$/i;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The usual spellings Python's uuid.UUID(str(x)) accepts (32 hex digits, hyphenated or not, in braces, after urn:uuid:), in the canonical lower-case form. */
export function canonicalUuid(v: unknown): string | undefined {
  if (typeof v !== 'string' || !UUID.test(v)) return undefined;
  const hex = v.toLowerCase().replace(/^urn:uuid:/, '').replace(/[{}-]/g, '');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const shortText = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length < STRING_MAX;
const isPeerName = (v: unknown): v is string => shortText(v) && !/^\d+$/.test(v);
const isEndpoint = (v: unknown): v is string => shortText(v) && v.startsWith('http');
/**
 * The password as the dcmanager CLI sends it: base64 of the plain password. dcmanager stores any text and fails only
 * when it later decodes it to sign in at the peer; fleetledger refuses text that does not decode, at once.
 */
const isManagerPassword = (v: unknown): v is string =>
  shortText(v) && BASE64.test(v) && Buffer.from(v, 'base64').toString('utf8').length > 0;
const isGateway = (v: unknown): v is string => shortText(v) && parseAddress(v) !== undefined;
const isAdministrativeState = (v: unknown): v is AdministrativeState => (ADMINISTRATIVE_STATES as readonly unknown[]).includes(v);
const isFailurePolicy = (v: unknown): v is HeartbeatFailurePolicy => (FAILURE_POLICIES as readonly unknown[]).includes(v);

const invalid = (what: string, field: string) => new ValidationError(`Invalid peer ${what}`, field);

export interface ValidatedPeer<F> {
  fields: F;
  /** The manager password as given (base64), for the command handler to seal. */
  managerPassword: string | undefined;
}

/** The optional fields, each checked when given (POST: heartbeat numbers when not null, texts when not empty). */
function optionalFields(input: SystemPeerInput, given: (v: unknown) => boolean): Partial<SystemPeerFields> {
  const out: Partial<SystemPeerFields> = {};
  const { administrative_state, heartbeat_interval, heartbeat_failure_threshold, heartbeat_failure_policy, heartbeat_maintenance_timeout } = input;
  if (administrative_state) {
    if (!isAdministrativeState(administrative_state)) throw invalid('administrative_state', 'administrative_state');
    out.administrativeState = administrative_state;
  }
  if (given(heartbeat_interval)) {
    const n = intInRange(heartbeat_interval, HEARTBEAT_INTERVAL.min, HEARTBEAT_INTERVAL.max);
    if (n === undefined) throw invalid('heartbeat_interval', 'heartbeat_interval');
    out.heartbeatInterval = n;
  }
  if (given(heartbeat_failure_threshold)) {
    const n = intInRange(heartbeat_failure_threshold, HEARTBEAT_FAILURE_THRESHOLD.min, HEARTBEAT_FAILURE_THRESHOLD.max);
    if (n === undefined) throw invalid('heartbeat_failure_threshold', 'heartbeat_failure_threshold');
    out.heartbeatFailureThreshold = n;
  }
  if (heartbeat_failure_policy) {
    if (!isFailurePolicy(heartbeat_failure_policy)) throw invalid('heartbeat_failure_policy', 'heartbeat_failure_policy');
    out.heartbeatFailurePolicy = heartbeat_failure_policy;
  }
  if (given(heartbeat_maintenance_timeout)) {
    const n = intInRange(heartbeat_maintenance_timeout, HEARTBEAT_MAINTENANCE_TIMEOUT.min, HEARTBEAT_MAINTENANCE_TIMEOUT.max);
    if (n === undefined) throw invalid('heartbeat_maintenance_timeout', 'heartbeat_maintenance_timeout');
    out.heartbeatMaintenanceTimeout = n;
  }
  return out;
}

export function validateNewSystemPeer(input: SystemPeerInput | undefined): ValidatedPeer<SystemPeerFields> {
  input = requireBody(input);
  const peerUuid = canonicalUuid(input.peer_uuid);
  if (!peerUuid) throw invalid('uuid', 'peer_uuid');
  if (!isPeerName(input.peer_name)) throw invalid('name', 'peer_name');
  if (!isEndpoint(input.manager_endpoint)) throw invalid('manager_endpoint', 'manager_endpoint');
  if (!shortText(input.manager_username)) throw invalid('manager_username', 'manager_username');
  if (!isManagerPassword(input.manager_password)) throw invalid('manager_password', 'manager_password');
  if (!isGateway(input.peer_controller_gateway_address)) {
    throw invalid('peer_controller_gateway_address', 'peer_controller_gateway_address');
  }
  const optional = optionalFields(input, (v) => v !== undefined && v !== null);
  return {
    fields: {
      peerUuid,
      peerName: input.peer_name,
      managerEndpoint: input.manager_endpoint,
      managerUsername: input.manager_username,
      peerControllerGatewayAddress: input.peer_controller_gateway_address,
      administrativeState: optional.administrativeState ?? 'enabled',
      heartbeatInterval: optional.heartbeatInterval ?? HEARTBEAT_INTERVAL.default,
      heartbeatFailureThreshold: optional.heartbeatFailureThreshold ?? HEARTBEAT_FAILURE_THRESHOLD.default,
      heartbeatFailurePolicy: optional.heartbeatFailurePolicy ?? 'alarm',
      heartbeatMaintenanceTimeout: optional.heartbeatMaintenanceTimeout ?? HEARTBEAT_MAINTENANCE_TIMEOUT.default,
    },
    managerPassword: input.manager_password,
  };
}

/** PATCH: any subset; dcmanager checks (and writes) only the fields with a truthy value. */
export function validateSystemPeerChanges(input: SystemPeerInput | undefined): ValidatedPeer<Partial<SystemPeerFields>> {
  input = requireBody(input);
  if (!KEYS.some((k) => Boolean(input[k]))) throw new ValidationError('nothing to update');
  const fields: Partial<SystemPeerFields> = {};
  if (input.peer_uuid) {
    const peerUuid = canonicalUuid(input.peer_uuid);
    if (!peerUuid) throw invalid('uuid', 'peer_uuid');
    fields.peerUuid = peerUuid;
  }
  if (input.peer_name) {
    if (!isPeerName(input.peer_name)) throw invalid('name', 'peer_name');
    fields.peerName = input.peer_name;
  }
  if (input.manager_endpoint) {
    if (!isEndpoint(input.manager_endpoint)) throw invalid('manager_endpoint', 'manager_endpoint');
    fields.managerEndpoint = input.manager_endpoint;
  }
  if (input.manager_username) {
    if (!shortText(input.manager_username)) throw invalid('manager_username', 'manager_username');
    fields.managerUsername = input.manager_username;
  }
  let managerPassword: string | undefined;
  if (input.manager_password) {
    if (!isManagerPassword(input.manager_password)) throw invalid('manager_password', 'manager_password');
    managerPassword = input.manager_password;
  }
  if (input.peer_controller_gateway_address) {
    if (!isGateway(input.peer_controller_gateway_address)) {
      throw invalid('peer_controller_gateway_address', 'peer_controller_gateway_address');
    }
    fields.peerControllerGatewayAddress = input.peer_controller_gateway_address;
  }
  Object.assign(fields, optionalFields(input, Boolean));
  return { fields, managerPassword };
}

// ---- decide ----
export const SYSTEM_PEER_NOT_FOUND = 'System Peer not found';
export const SYSTEM_PEER_IN_USE = 'Cannot delete a system peer which is associated with peer group.';

function requireActive(state: SystemPeerState) {
  if (state.status !== 'active') throw new NotFoundError(SYSTEM_PEER_NOT_FOUND);
  return state;
}

export function decide(command: SystemPeerCommand, state: SystemPeerState): SystemPeerEvent[] {
  switch (command.type) {
    case 'AddSystemPeer':
      if (state.status !== 'absent') throw new ValidationError('A system peer with this id already exists');
      return [{ type: 'SystemPeerAdded', data: { id: command.id, ...command.fields, managerPassword: command.managerPassword, at: command.at } }];
    case 'UpdateSystemPeer': {
      const s = requireActive(state);
      const changed = changedFields<SystemPeerFields>(command.changes, s);
      // A new password is always recorded: sealed texts of the same password differ, so they cannot be compared.
      if (Object.keys(changed).length === 0 && !command.managerPassword) return [];
      return [{ type: 'SystemPeerUpdated', data: { ...changed, ...(command.managerPassword ? { managerPassword: command.managerPassword } : {}), at: command.at } }];
    }
    case 'DeleteSystemPeer':
      requireActive(state);
      if (command.associationCount > 0) throw new ValidationError(SYSTEM_PEER_IN_USE);
      return [{ type: 'SystemPeerDeleted', data: { at: command.at } }];
    case 'RecordPeerAvailability': {
      const s = requireActive(state);
      if (s.availabilityState === command.availabilityState) return [];
      return [{ type: 'SystemPeerAvailabilityChanged', data: { availabilityState: command.availabilityState, previous: s.availabilityState, at: command.at } }];
    }
  }
}

// ---- evolve ----
export function evolve(state: SystemPeerState, event: SystemPeerEvent): SystemPeerState {
  switch (event.type) {
    case 'SystemPeerAdded': {
      const { at, ...rest } = event.data;
      return { status: 'active', ...rest, availabilityState: 'created', createdAt: at, updatedAt: null };
    }
    case 'SystemPeerUpdated': {
      if (state.status === 'absent') return state;
      const { at, ...changes } = event.data;
      return { ...state, ...changes, updatedAt: at };
    }
    case 'SystemPeerAvailabilityChanged':
      return state.status === 'absent' ? state : { ...state, availabilityState: event.data.availabilityState, updatedAt: event.data.at };
    case 'SystemPeerDeleted':
      return state.status === 'absent' ? state : { ...state, status: 'deleted', updatedAt: event.data.at };
  }
}

export const systemPeerDecider: Decider<SystemPeerState, SystemPeerCommand, SystemPeerEvent> = {
  decide,
  evolve,
  initialState,
};
