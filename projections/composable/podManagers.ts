// Read model of pod managers: one document per registered pod manager (the password only sealed; the presenter
// shows *** in its place).
import { evolve, initialState, type PodManagerEvent, type PodManagerState } from '../../domain/composable/podManager.js';
import { POD_MANAGERS } from '../../commands/composable/podManagers.js';
import { aggregateStateProjection, type StateDoc } from '../core/stateProjection.js';

export type PodManagerDoc = StateDoc<PodManagerState>;

export const podManagersProjection = aggregateStateProjection<PodManagerState, PodManagerEvent>({
  name: 'composable.podManagers.v1',
  collection: POD_MANAGERS,
  indexes: [{ keys: { uuid: 1 }, unique: true }, { keys: { name: 1 }, unique: true }],
  streamPrefix: 'podManager-',
  initialState,
  evolve,
});
