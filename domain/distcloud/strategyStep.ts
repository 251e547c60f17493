// One step of a software update strategy: one subcloud's way through the strategy's states (dcmanager
// `strategy_steps`, spec §1.6, §4.2). Stream: strategyStep-<strategyId>.<subcloudId>. A step with no events yet is
// `initial` (the strategy's creation lists its steps). For prestage the states run in PRESTAGE_STEP_STATES order;
// each is recorded before its work starts, so a restarted orchestrator resumes a step where it was and runs no state
// twice. Recording a state, an outcome or an abort the step already has changes nothing.
import type { Decider, DomainEvent } from '../core/decider.js';
import { ConflictError } from '../core/errors.js';
import { PRESTAGE_STEP_STATES, stepDetails, type PrestageStepState } from './prestage.js';

export const strategyStepId = (strategyId: number, subcloudId: number) => `${strategyId}.${subcloudId}`;
export const strategyStepStream = (strategyId: number, subcloudId: number) => `strategyStep-${strategyStepId(strategyId, subcloudId)}`;

export const FINAL_STEP_STATES = ['complete', 'failed', 'aborted'] as const;
export type FinalStepState = (typeof FINAL_STEP_STATES)[number];
export type StepState = 'initial' | PrestageStepState | FinalStepState;
export const isFinalStepState = (s: string): s is FinalStepState => (FINAL_STEP_STATES as readonly string[]).includes(s);

/** dcmanager's stage since the rolling pool (2023-07): created, started, processed. */
export const STEP_STAGE = { created: 1, started: 2, processed: 3 } as const;

// ---- events ----
export type StrategyStepEvent =
  | DomainEvent<'StrategyStepStateChanged', { state: PrestageStepState; previous: StepState; at: string }>
  /** Done: all states ran, or the pre-check skipped the subcloud (the reason in `details`). */
  | DomainEvent<'StrategyStepCompleted', { details: string; at: string }>
  | DomainEvent<'StrategyStepFailed', { state: StepState; details: string; at: string }>
  | DomainEvent<'StrategyStepAborted', { at: string }>;

// ---- commands ----
export type StrategyStepCommand =
  | { type: 'EnterStepState'; state: PrestageStepState; at: string }
  | { type: 'CompleteStep'; details?: string; at: string }
  | { type: 'FailStep'; details: string; at: string }
  /** Abort: only a step that has not started is aborted; a running one runs to its end. */
  | { type: 'AbortStep'; at: string };

// ---- state ----
export interface StrategyStepState {
  state: StepState;
  details: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string | null;
}

export const initialState = (): StrategyStepState => ({ state: 'initial', details: '', startedAt: null, finishedAt: null, updatedAt: null });

// ---- decide ----
const order = (s: StepState) => (s === 'initial' ? -1 : PRESTAGE_STEP_STATES.indexOf(s as PrestageStepState));

export function decide(command: StrategyStepCommand, s: StrategyStepState): StrategyStepEvent[] {
  const at = command.at;
  if (isFinalStepState(s.state)) return [];
  switch (command.type) {
    case 'EnterStepState': {
      if (s.state === command.state) return [];
      // States only move forward, one at a time.
      if (order(command.state) !== order(s.state) + 1) {
        throw new ConflictError(`Strategy step cannot go from ${s.state} to ${command.state}`);
      }
      return [{ type: 'StrategyStepStateChanged', data: { state: command.state, previous: s.state, at } }];
    }
    case 'CompleteStep':
      if (s.state === 'initial') throw new ConflictError('A strategy step that has not started cannot complete');
      return [{ type: 'StrategyStepCompleted', data: { details: stepDetails(command.details ?? ''), at } }];
    case 'FailStep':
      return [{ type: 'StrategyStepFailed', data: { state: s.state, details: stepDetails(command.details), at } }];
    case 'AbortStep':
      return s.state === 'initial' ? [{ type: 'StrategyStepAborted', data: { at } }] : [];
  }
}

// ---- evolve ----
export function evolve(s: StrategyStepState, event: StrategyStepEvent): StrategyStepState {
  const at = event.data.at;
  switch (event.type) {
    case 'StrategyStepStateChanged':
      return { ...s, state: event.data.state, startedAt: s.startedAt ?? at, updatedAt: at };
    case 'StrategyStepCompleted':
      return { ...s, state: 'complete', details: event.data.details, finishedAt: at, updatedAt: at };
    case 'StrategyStepFailed':
      return { ...s, state: 'failed', details: event.data.details, finishedAt: at, updatedAt: at };
    case 'StrategyStepAborted':
      return { ...s, state: 'aborted', finishedAt: at, updatedAt: at };
  }
}

export const strategyStepDecider: Decider<StrategyStepState, StrategyStepCommand, StrategyStepEvent> = { decide, evolve, initialState };
