// A strategy step (domain/distcloud/strategyStep.ts), given/when/then: the four prestage states in order, the
// outcomes (complete, failed, aborted) and their details, and that an ended step never changes again.
import { describe, expect, it } from 'vitest';
import { fold } from '../../../domain/core/decider.js';
import { ConflictError } from '../../../domain/core/errors.js';
import { PRESTAGE_STEP_STATES, type PrestageStepState } from '../../../domain/distcloud/prestage.js';
import { strategyStepDecider, type StepState, type StrategyStepCommand, type StrategyStepEvent } from '../../../domain/distcloud/strategyStep.js';
import { deciderSpec } from '../../support/deciderSpec.js';
import { exactly } from './subcloudFixtures.js';

const spec = deciderSpec(strategyStepDecider);
const t1 = '2026-03-01T10:00:00.000Z';
const t2 = '2026-03-01T10:05:00.000Z';
const t3 = '2026-03-01T10:10:00.000Z';

const enter = (state: PrestageStepState, at = t2): StrategyStepCommand => ({ type: 'EnterStepState', state, at });
const entered = (previous: StepState, state: PrestageStepState, at = t1): StrategyStepEvent => ({
  type: 'StrategyStepStateChanged',
  data: { state, previous, at },
});
/** The events that bring a step into each prestage state, in order. */
const upTo = (state: PrestageStepState): StrategyStepEvent[] => {
  const events: StrategyStepEvent[] = [];
  let previous: StepState = 'initial';
  for (const s of PRESTAGE_STEP_STATES) {
    events.push(entered(previous, s));
    if (s === state) break;
    previous = s;
  }
  return events;
};
const completed: StrategyStepEvent[] = [...upTo('prestaging-images'), { type: 'StrategyStepCompleted', data: { details: '', at: t2 } }];
const failed: StrategyStepEvent[] = [...upTo('prestaging-packages'), { type: 'StrategyStepFailed', data: { state: 'prestaging-packages', details: 'boom', at: t2 } }];
const aborted: StrategyStepEvent[] = [{ type: 'StrategyStepAborted', data: { at: t2 } }];

describe('EnterStepState', () => {
  it('the states run in order: prestage-precheck, prestage-prepare, prestaging-packages, prestaging-images', () => {
    expect(PRESTAGE_STEP_STATES).toEqual(['prestage-precheck', 'prestage-prepare', 'prestaging-packages', 'prestaging-images']);
    spec([]).when(enter('prestage-precheck')).then([entered('initial', 'prestage-precheck', t2)]);
    spec(upTo('prestage-precheck')).when(enter('prestage-prepare')).then([entered('prestage-precheck', 'prestage-prepare', t2)]);
    spec(upTo('prestage-prepare')).when(enter('prestaging-packages')).then([entered('prestage-prepare', 'prestaging-packages', t2)]);
    spec(upTo('prestaging-packages')).when(enter('prestaging-images')).then([entered('prestaging-packages', 'prestaging-images', t2)]);
  });

  it('re-entering the current state appends nothing (a restarted orchestrator resumes)', () => {
    for (const state of PRESTAGE_STEP_STATES) spec(upTo(state)).when(enter(state)).thenNothingHappens();
  });

  it('refuses to skip a state', () => {
    spec([]).when(enter('prestage-prepare')).thenThrows(ConflictError, exactly('Strategy step cannot go from initial to prestage-prepare'));
    spec(upTo('prestage-precheck'))
      .when(enter('prestaging-packages'))
      .thenThrows(ConflictError, exactly('Strategy step cannot go from prestage-precheck to prestaging-packages'));
    spec(upTo('prestage-prepare'))
      .when(enter('prestaging-images'))
      .thenThrows(ConflictError, exactly('Strategy step cannot go from prestage-prepare to prestaging-images'));
  });

  it('refuses to go back', () => {
    spec(upTo('prestaging-images'))
      .when(enter('prestaging-packages'))
      .thenThrows(ConflictError, exactly('Strategy step cannot go from prestaging-images to prestaging-packages'));
    spec(upTo('prestage-prepare'))
      .when(enter('prestage-precheck'))
      .thenThrows(ConflictError, exactly('Strategy step cannot go from prestage-prepare to prestage-precheck'));
  });
});

describe('CompleteStep', () => {
  it('completes a started step, with its details or none', () => {
    spec(upTo('prestaging-images')).when({ type: 'CompleteStep', at: t3 }).then([{ type: 'StrategyStepCompleted', data: { details: '', at: t3 } }]);
    // the pre-check skipped the subcloud: the step completes with the reason
    spec(upTo('prestage-precheck'))
      .when({ type: 'CompleteStep', details: "Prestage skipped 'sc1': Subcloud is offline.", at: t3 })
      .then([{ type: 'StrategyStepCompleted', data: { details: "Prestage skipped 'sc1': Subcloud is offline.", at: t3 } }]);
  });

  it('refuses a step that has not started', () => {
    spec([]).when({ type: 'CompleteStep', at: t3 }).thenThrows(ConflictError, exactly('A strategy step that has not started cannot complete'));
  });

  it('cuts details over 255 characters', () => {
    spec(upTo('prestage-precheck'))
      .when({ type: 'CompleteStep', details: 'd'.repeat(300), at: t3 })
      .then([{ type: 'StrategyStepCompleted', data: { details: `${'d'.repeat(253)}..`, at: t3 } }]);
  });
});

describe('FailStep', () => {
  it('fails a running step in its current state', () => {
    spec(upTo('prestaging-packages'))
      .when({ type: 'FailStep', details: 'prestaging-packages: boom', at: t3 })
      .then([{ type: 'StrategyStepFailed', data: { state: 'prestaging-packages', details: 'prestaging-packages: boom', at: t3 } }]);
  });

  it('fails a step that has not started (its subcloud became unmanaged), keeping the details', () => {
    spec([])
      .when({ type: 'FailStep', details: 'Subcloud sc1 is unmanaged.', at: t3 })
      .then([{ type: 'StrategyStepFailed', data: { state: 'initial', details: 'Subcloud sc1 is unmanaged.', at: t3 } }]);
  });

  it('cuts details over 255 characters; 255 are kept', () => {
    spec(upTo('prestage-prepare'))
      .when({ type: 'FailStep', details: 'e'.repeat(256), at: t3 })
      .then([{ type: 'StrategyStepFailed', data: { state: 'prestage-prepare', details: `${'e'.repeat(253)}..`, at: t3 } }]);
    spec(upTo('prestage-prepare'))
      .when({ type: 'FailStep', details: 'e'.repeat(255), at: t3 })
      .then([{ type: 'StrategyStepFailed', data: { state: 'prestage-prepare', details: 'e'.repeat(255), at: t3 } }]);
  });
});

describe('AbortStep', () => {
  it('aborts a step that has not started', () => {
    spec([]).when({ type: 'AbortStep', at: t3 }).then([{ type: 'StrategyStepAborted', data: { at: t3 } }]);
  });

  it('leaves a running step to run to its end', () => {
    for (const state of PRESTAGE_STEP_STATES) spec(upTo(state)).when({ type: 'AbortStep', at: t3 }).thenNothingHappens();
  });
});

describe('an ended step', () => {
  const commands: StrategyStepCommand[] = [
    ...PRESTAGE_STEP_STATES.map((s) => enter(s, t3)),
    { type: 'CompleteStep', details: 'again', at: t3 },
    { type: 'FailStep', details: 'again', at: t3 },
    { type: 'AbortStep', at: t3 },
  ];

  it('complete, failed or aborted: every command appends nothing', () => {
    for (const given of [completed, failed, aborted]) {
      for (const command of commands) spec(given).when(command).thenNothingHappens();
    }
  });
});

describe('evolve', () => {
  it('a new step is initial, not started', () => {
    expect(strategyStepDecider.initialState()).toEqual({ state: 'initial', details: '', startedAt: null, finishedAt: null, updatedAt: null });
  });

  it('startedAt is the first state\'s time; updatedAt follows each state', () => {
    const events: StrategyStepEvent[] = [entered('initial', 'prestage-precheck', t1), entered('prestage-precheck', 'prestage-prepare', t2)];
    expect(fold(strategyStepDecider, events)).toEqual({ state: 'prestage-prepare', details: '', startedAt: t1, finishedAt: null, updatedAt: t2 });
  });

  it('finishedAt is the outcome\'s time, with its details', () => {
    const start = [entered('initial', 'prestage-precheck', t1)];
    expect(fold(strategyStepDecider, [...start, { type: 'StrategyStepCompleted', data: { details: 'skipped', at: t3 } }])).toEqual({
      state: 'complete',
      details: 'skipped',
      startedAt: t1,
      finishedAt: t3,
      updatedAt: t3,
    });
    expect(fold(strategyStepDecider, [...start, { type: 'StrategyStepFailed', data: { state: 'prestage-precheck', details: 'boom', at: t3 } }])).toEqual({
      state: 'failed',
      details: 'boom',
      startedAt: t1,
      finishedAt: t3,
      updatedAt: t3,
    });
  });

  it('a step failed or aborted before it started has finishedAt and no startedAt', () => {
    expect(fold(strategyStepDecider, aborted)).toEqual({ state: 'aborted', details: '', startedAt: null, finishedAt: t2, updatedAt: t2 });
    expect(fold(strategyStepDecider, [{ type: 'StrategyStepFailed', data: { state: 'initial', details: 'Subcloud sc1 is unmanaged.', at: t2 } }])).toEqual({
      state: 'failed',
      details: 'Subcloud sc1 is unmanaged.',
      startedAt: null,
      finishedAt: t2,
      updatedAt: t2,
    });
  });
});
