// The software update strategy decider (domain/distcloud/swUpdateStrategy.ts), given/when/then: creation, apply,
// abort, the once-per-strategy prestage preparation, the finish and the deletion, with dcmanager's refusals.
import { describe, expect, it } from 'vitest';
import { fold } from '../../../domain/core/decider.js';
import { NotFoundError } from '../../../domain/core/errors.js';
import type { SealedSecret } from '../../../domain/core/sealed.js';
import {
  finalState,
  StrategyRequestError,
  swUpdateStrategyDecider,
  type StrategySettings,
  type StrategyState,
  type SwUpdateStrategyCommand,
  type SwUpdateStrategyEvent,
} from '../../../domain/distcloud/swUpdateStrategy.js';
import { deciderSpec, thrownBy } from '../../support/deciderSpec.js';
import { exactly } from './subcloudFixtures.js';

const spec = deciderSpec(swUpdateStrategyDecider);
const at = '2026-03-01T10:00:00.000Z';
const later = '2026-03-01T11:00:00.000Z';
const sealed: SealedSecret = { alg: 'A256GCM', kid: '0123456789abcdef', iv: 'aXY=', tag: 'dGFn', ct: 'Y3Q=' };
const settings: StrategySettings = {
  type: 'prestage',
  subcloudApplyType: 'parallel',
  maxParallelSubclouds: 5,
  stopOnFailure: false,
  extraArgs: { force: false, 'prestage-software-version': '24.03' },
};
const steps = [
  { subcloudId: 3, cloud: 'sc3' },
  { subcloudId: 7, cloud: 'sc7' },
];

const create: SwUpdateStrategyCommand = { type: 'CreateStrategy', id: 1, steps, sysadminPassword: sealed, settings, at };
const created: SwUpdateStrategyEvent = { type: 'SwUpdateStrategyCreated', data: { id: 1, ...settings, steps, sysadminPassword: sealed, at } };
const moved = (previous: StrategyState, state: StrategyState, when = at): SwUpdateStrategyEvent => ({
  type: 'SwUpdateStrategyStateChanged',
  data: { state, previous, at: when },
});
const ev = <T extends SwUpdateStrategyEvent['type']>(type: T, data: Extract<SwUpdateStrategyEvent, { type: T }>['data']) =>
  ({ type, data }) as SwUpdateStrategyEvent;

/** The events that bring a strategy to each state. */
const applying = [created, moved('initial', 'applying')];
const abortRequested = [...applying, moved('applying', 'abort requested')];
const aborting = [...abortRequested, moved('abort requested', 'aborting')];
const inState: Record<Exclude<StrategyState, 'deleting'>, SwUpdateStrategyEvent[]> = {
  initial: [created],
  applying,
  'abort requested': abortRequested,
  aborting,
  complete: [...applying, moved('applying', 'complete')],
  failed: [...applying, moved('applying', 'failed')],
  aborted: [...aborting, moved('aborting', 'aborted')],
};
const deleted = [created, moved('initial', 'deleting'), ev('SwUpdateStrategyDeleted', { subcloudIds: [3, 7], at })];

const start = (operationId = 'prep-1'): SwUpdateStrategyCommand => ({
  type: 'StartPrestagePreparation',
  operationId,
  release: '24.03',
  previousRelease: '22.12',
  at: later,
});
const prepStarted = ev('PrestagePreparationStarted', { operationId: 'prep-1', release: '24.03', previousRelease: '22.12', at });
const finish = (failedSteps: number, abortedSteps: number): SwUpdateStrategyCommand => ({ type: 'FinishStrategy', failedSteps, abortedSteps, at: later });

describe('CreateStrategy', () => {
  it('given no strategy, creates one carrying its settings, steps and sealed password', () => {
    spec([]).when(create).then([created]);
  });

  it('folds into an initial strategy with no preparation yet', () => {
    expect(fold(swUpdateStrategyDecider, [created])).toEqual({
      status: 'active',
      id: 1,
      ...settings,
      state: 'initial',
      steps,
      preparation: { status: 'none', operationId: null, error: null },
      createdAt: at,
      updatedAt: null,
    });
  });

  it('refuses a strategy with no steps (422)', () => {
    spec([]).when({ ...create, steps: [] }).thenThrows(StrategyRequestError, exactly('Bad strategy request: Strategy has no steps to apply'));
    const thrown = thrownBy(() => swUpdateStrategyDecider.decide({ ...create, steps: [] }, swUpdateStrategyDecider.initialState()));
    expect((thrown as StrategyRequestError).status).toBe(422);
    expect((thrown as StrategyRequestError).reason).toBe('Strategy has no steps to apply');
  });

  it('refuses a second strategy on an existing stream', () => {
    spec([created]).when(create).thenThrows(StrategyRequestError, exactly("Bad strategy request: Strategy of type: 'prestage' already exists"));
  });
});

describe('ApplyStrategy', () => {
  it('given an initial strategy, moves it to applying', () => {
    spec([created]).when({ type: 'ApplyStrategy', at: later }).then([moved('initial', 'applying', later)]);
  });

  it('refuses from any other state (422)', () => {
    for (const [state, given] of Object.entries(inState)) {
      if (state === 'initial') continue;
      spec(given)
        .when({ type: 'ApplyStrategy', at: later })
        .thenThrows(StrategyRequestError, exactly(`Bad strategy request: Strategy in state ${state} cannot be applied`));
    }
    const thrown = thrownBy(() => swUpdateStrategyDecider.decide({ type: 'ApplyStrategy', at }, fold(swUpdateStrategyDecider, applying)));
    expect((thrown as Error).message).toBe('Bad strategy request: Strategy in state applying cannot be applied');
    expect((thrown as StrategyRequestError).status).toBe(422);
  });
});

describe('AbortStrategy and MarkStrategyAborting', () => {
  it('given an applying strategy, an abort is requested', () => {
    spec(applying).when({ type: 'AbortStrategy', at: later }).then([moved('applying', 'abort requested', later)]);
  });

  it('refuses an abort unless applying', () => {
    for (const [state, given] of Object.entries(inState)) {
      if (state === 'applying') continue;
      spec(given)
        .when({ type: 'AbortStrategy', at: later })
        .thenThrows(StrategyRequestError, exactly(`Bad strategy request: Strategy in state ${state} cannot be aborted`));
    }
  });

  it('once the unstarted steps are marked, abort requested becomes aborting', () => {
    spec(abortRequested).when({ type: 'MarkStrategyAborting', at: later }).then([moved('abort requested', 'aborting', later)]);
  });

  it('marking aborting from any other state changes nothing', () => {
    for (const [state, given] of Object.entries(inState)) {
      if (state === 'abort requested') continue;
      spec(given).when({ type: 'MarkStrategyAborting', at: later }).thenNothingHappens();
    }
  });
});

describe('the prestage preparation (once per strategy)', () => {
  it('starts while the strategy is active', () => {
    for (const given of [applying, abortRequested, aborting]) {
      spec(given).when(start()).then([ev('PrestagePreparationStarted', { operationId: 'prep-1', release: '24.03', previousRelease: '22.12', at: later })]);
    }
  });

  it('does not start when the strategy is not active', () => {
    for (const state of ['initial', 'complete', 'failed', 'aborted'] as const) spec(inState[state]).when(start()).thenNothingHappens();
  });

  it('a second start changes nothing, whether running, completed or failed', () => {
    spec([...applying, prepStarted]).when(start('prep-2')).thenNothingHappens();
    spec([...applying, prepStarted, ev('PrestagePreparationCompleted', { operationId: 'prep-1', at })]).when(start('prep-2')).thenNothingHappens();
    spec([...applying, prepStarted, ev('PrestagePreparationFailed', { operationId: 'prep-1', error: 'x', at })]).when(start('prep-2')).thenNothingHappens();
  });

  it('completes the running operation', () => {
    spec([...applying, prepStarted])
      .when({ type: 'CompletePrestagePreparation', operationId: 'prep-1', at: later })
      .then([ev('PrestagePreparationCompleted', { operationId: 'prep-1', at: later })]);
  });

  it('fails the running operation, with its error', () => {
    spec([...applying, prepStarted])
      .when({ type: 'FailPrestagePreparation', operationId: 'prep-1', error: 'no space left', at: later })
      .then([ev('PrestagePreparationFailed', { operationId: 'prep-1', error: 'no space left', at: later })]);
  });

  it('ignores an outcome for another operation, or when none is running', () => {
    const running = [...applying, prepStarted];
    spec(running).when({ type: 'CompletePrestagePreparation', operationId: 'prep-2', at: later }).thenNothingHappens();
    spec(running).when({ type: 'FailPrestagePreparation', operationId: 'prep-2', error: 'x', at: later }).thenNothingHappens();
    spec(applying).when({ type: 'CompletePrestagePreparation', operationId: 'prep-1', at: later }).thenNothingHappens();
    spec(applying).when({ type: 'FailPrestagePreparation', operationId: 'prep-1', error: 'x', at: later }).thenNothingHappens();
    const completed = [...running, ev('PrestagePreparationCompleted', { operationId: 'prep-1', at })];
    spec(completed).when({ type: 'CompletePrestagePreparation', operationId: 'prep-1', at: later }).thenNothingHappens();
    spec(completed).when({ type: 'FailPrestagePreparation', operationId: 'prep-1', error: 'x', at: later }).thenNothingHappens();
  });

  it('folds the preparation: running, then completed or failed with its error', () => {
    expect(fold(swUpdateStrategyDecider, [...applying, prepStarted])).toMatchObject({
      preparation: { status: 'running', operationId: 'prep-1', error: null },
    });
    expect(fold(swUpdateStrategyDecider, [...applying, prepStarted, ev('PrestagePreparationCompleted', { operationId: 'prep-1', at: later })])).toMatchObject({
      preparation: { status: 'completed', operationId: 'prep-1', error: null },
      updatedAt: later,
    });
    expect(
      fold(swUpdateStrategyDecider, [...applying, prepStarted, ev('PrestagePreparationFailed', { operationId: 'prep-1', error: 'boom', at: later })]),
    ).toMatchObject({ preparation: { status: 'failed', operationId: 'prep-1', error: 'boom' } });
  });
});

describe('FinishStrategy', () => {
  it('an applying strategy completes when no step failed or was aborted', () => {
    spec(applying).when(finish(0, 0)).then([moved('applying', 'complete', later)]);
  });

  it('fails when any step failed, even while aborting', () => {
    spec(applying).when(finish(1, 0)).then([moved('applying', 'failed', later)]);
    spec(applying).when(finish(1, 3)).then([moved('applying', 'failed', later)]);
    spec(aborting).when(finish(2, 1)).then([moved('aborting', 'failed', later)]);
  });

  it('is aborted when it was aborting, an abort was requested, or steps were aborted', () => {
    spec(aborting).when(finish(0, 0)).then([moved('aborting', 'aborted', later)]);
    spec(abortRequested).when(finish(0, 0)).then([moved('abort requested', 'aborted', later)]);
    spec(applying).when(finish(0, 2)).then([moved('applying', 'aborted', later)]);
  });

  it('changes nothing when the strategy is not active', () => {
    for (const state of ['initial', 'complete', 'failed', 'aborted'] as const) spec(inState[state]).when(finish(1, 0)).thenNothingHappens();
  });

  it('finalState: failed, then aborted, then complete', () => {
    expect(finalState('applying', 0, 0)).toBe('complete');
    expect(finalState('applying', 1, 0)).toBe('failed');
    expect(finalState('applying', 0, 1)).toBe('aborted');
    expect(finalState('abort requested', 0, 0)).toBe('aborted');
    expect(finalState('aborting', 0, 0)).toBe('aborted');
    expect(finalState('aborting', 1, 1)).toBe('failed');
  });
});

describe('DeleteStrategy', () => {
  it('from initial, complete, failed or aborted: deleting, then deleted with the subclouds of its steps', () => {
    for (const state of ['initial', 'complete', 'failed', 'aborted'] as const) {
      spec(inState[state])
        .when({ type: 'DeleteStrategy', at: later })
        .then([moved(state, 'deleting', later), ev('SwUpdateStrategyDeleted', { subcloudIds: [3, 7], at: later })]);
    }
  });

  it('refused while the strategy runs', () => {
    for (const state of ['applying', 'abort requested', 'aborting'] as const) {
      spec(inState[state])
        .when({ type: 'DeleteStrategy', at: later })
        .thenThrows(StrategyRequestError, exactly(`Bad strategy request: Strategy in state ${state} cannot be deleted`));
    }
  });

  it('folds into a deleted strategy', () => {
    expect(fold(swUpdateStrategyDecider, deleted)).toMatchObject({ status: 'deleted', state: 'deleting' });
  });
});

describe('a strategy that is not there', () => {
  const commands: SwUpdateStrategyCommand[] = [
    { type: 'ApplyStrategy', at },
    { type: 'AbortStrategy', at },
    { type: 'MarkStrategyAborting', at },
    start(),
    { type: 'CompletePrestagePreparation', operationId: 'prep-1', at },
    { type: 'FailPrestagePreparation', operationId: 'prep-1', error: 'x', at },
    finish(0, 0),
    { type: 'DeleteStrategy', at },
  ];

  it('any command but create on an absent strategy: Strategy not found (404)', () => {
    for (const command of commands) spec([]).when(command).thenThrows(NotFoundError, exactly('Strategy not found'));
    expect((thrownBy(() => swUpdateStrategyDecider.decide({ type: 'ApplyStrategy', at }, swUpdateStrategyDecider.initialState())) as NotFoundError).status).toBe(404);
  });

  it('any command but create on a deleted strategy: Strategy not found', () => {
    for (const command of commands) spec(deleted).when(command).thenThrows(NotFoundError, exactly('Strategy not found'));
  });
});
