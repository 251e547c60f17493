// Read model of strategy steps: one document per step of the live strategy. The strategy's creation makes its steps
// (`initial`, stage 1), each step's stream moves its document on (stage 2 once started, 3 once it has an outcome),
// and the strategy's deletion removes them.
import type { Doc } from '../../adapters/readstore/port.js';
import { COLLECTIONS } from '../../domain/distcloud/collections.js';
import {
  evolve as evolveStep,
  isFinalStepState,
  STEP_STAGE,
  strategyStepId,
  type StrategyStepEvent,
  type StrategyStepState,
} from '../../domain/distcloud/strategyStep.js';
import type { StrategyStepRef, SwUpdateStrategyEvent } from '../../domain/distcloud/swUpdateStrategy.js';
import type { Projection } from '../core/projection.js';

export type StrategyStepDoc = Doc &
  StrategyStepState & {
    strategyId: number;
    subcloudId: number;
    cloud: string;
    stage: number;
    createdAt: string;
  };

const STEP_PREFIX = 'strategyStep-';
const STRATEGY_PREFIX = 'swUpdateStrategy-';

// The creation event is evolved once per step: index its step list once, not once per step.
const indexes = new WeakMap<StrategyStepRef[], Map<number, StrategyStepRef>>();
function stepsById(steps: StrategyStepRef[]) {
  let index = indexes.get(steps);
  if (!index) indexes.set(steps, (index = new Map(steps.map((s) => [s.subcloudId, s]))));
  return index;
}

export const strategyStepsProjection: Projection<StrategyStepDoc> = {
  name: 'distcloud.strategySteps.v1',
  collection: COLLECTIONS.strategySteps,
  indexes: [{ keys: { strategyId: 1, subcloudId: 1 }, unique: true }, { keys: { cloud: 1 } }],
  documentIds(event) {
    if (event.streamId.startsWith(STEP_PREFIX)) return [event.streamId.slice(STEP_PREFIX.length)];
    if (!event.streamId.startsWith(STRATEGY_PREFIX)) return [];
    const e = event as unknown as SwUpdateStrategyEvent;
    const strategyId = Number(event.streamId.slice(STRATEGY_PREFIX.length));
    if (e.type === 'SwUpdateStrategyCreated') return e.data.steps.map((s) => strategyStepId(strategyId, s.subcloudId));
    if (e.type === 'SwUpdateStrategyDeleted') return e.data.subcloudIds.map((id) => strategyStepId(strategyId, id));
    return [];
  },
  evolve(doc, event, id) {
    if (event.streamId.startsWith(STRATEGY_PREFIX)) {
      const e = event as unknown as SwUpdateStrategyEvent;
      if (e.type === 'SwUpdateStrategyDeleted') return null;
      if (e.type !== 'SwUpdateStrategyCreated' || doc) return doc ?? null;
      const [strategyId, subcloudId] = id.split('.').map(Number) as [number, number];
      const ref = stepsById(e.data.steps).get(subcloudId)!;
      return {
        _id: id,
        strategyId,
        subcloudId,
        cloud: ref.cloud,
        stage: STEP_STAGE.created,
        state: 'initial',
        details: '',
        startedAt: null,
        finishedAt: null,
        createdAt: e.data.at,
        updatedAt: null,
      };
    }
    // A step's own event for a strategy already deleted (or never projected) has no document to move on.
    if (!doc) return null;
    const next = evolveStep(doc, event as unknown as StrategyStepEvent);
    return { ...doc, ...next, stage: isFinalStepState(next.state) ? STEP_STAGE.processed : STEP_STAGE.started };
  },
};
