// Read model of software update strategies: one document per live strategy (at most one at a time), its state.
import { COLLECTIONS } from '../../domain/distcloud/collections.js';
import { evolve, initialState, type SwUpdateStrategyEvent, type SwUpdateStrategyState } from '../../domain/distcloud/swUpdateStrategy.js';
import { aggregateStateProjection, type StateDoc } from '../core/stateProjection.js';

export type SwUpdateStrategyDoc = StateDoc<SwUpdateStrategyState>;

export const swUpdateStrategiesProjection = aggregateStateProjection<SwUpdateStrategyState, SwUpdateStrategyEvent>({
  name: 'distcloud.swUpdateStrategies.v1',
  collection: COLLECTIONS.swUpdateStrategies,
  indexes: [{ keys: { id: 1 }, unique: true }, { keys: { type: 1 } }],
  streamPrefix: 'swUpdateStrategy-',
  initialState,
  evolve,
});
