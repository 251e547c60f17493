// This site's own identity as a system controller: its UUID, recorded once at the first start and never changed, and
// its name (SYSTEM_NAME). dcmanager reads both from sysinv. A peer knows this site by the UUID (its system peer's
// `peer_uuid`), and a peer group names its leader by UUID and name. Stream: system-local.
import type { Decider, DomainEvent } from '../core/decider.js';

export const LOCAL_SYSTEM_STREAM = 'system-local';

export type LocalSystemEvent =
  | DomainEvent<'SystemIdentified', { uuid: string; name: string; at: string }>
  | DomainEvent<'SystemRenamed', { name: string; previousName: string; at: string }>;

/** `uuid`: a fresh candidate, used only when the site has none yet. */
export type LocalSystemCommand = { type: 'IdentifySystem'; uuid: string; name: string; at: string };

export type LocalSystemState = { status: 'absent' } | { status: 'active'; uuid: string; name: string; identifiedAt: string };

export const initialState = (): LocalSystemState => ({ status: 'absent' });

export function decide(command: LocalSystemCommand, state: LocalSystemState): LocalSystemEvent[] {
  if (state.status === 'absent') {
    return [{ type: 'SystemIdentified', data: { uuid: command.uuid, name: command.name, at: command.at } }];
  }
  if (state.name === command.name) return [];
  return [{ type: 'SystemRenamed', data: { name: command.name, previousName: state.name, at: command.at } }];
}

export function evolve(state: LocalSystemState, event: LocalSystemEvent): LocalSystemState {
  switch (event.type) {
    case 'SystemIdentified':
      return { status: 'active', uuid: event.data.uuid, name: event.data.name, identifiedAt: event.data.at };
    case 'SystemRenamed':
      return state.status === 'active' ? { ...state, name: event.data.name } : state;
  }
}

export const localSystemDecider: Decider<LocalSystemState, LocalSystemCommand, LocalSystemEvent> = {
  decide,
  evolve,
  initialState,
};

export interface LocalSystem {
  uuid: string;
  name: string;
}
