// Software update strategy (dcmanager `sw-update-strategy`, spec §1.6): an orchestration over a set of subclouds,
// one step each, created, applied, aborted and deleted by the operator. Prestage is the type fleetledger orchestrates.
// Stream: swUpdateStrategy-<id>. Each step's progress is its own stream (strategyStep.ts), so steps running in
// parallel never contend for one stream; what concerns the whole strategy (its state, the prestage preparation that
// runs once for all steps) is here.
//
// States: initial -> applying -> complete | failed, or applying -> abort requested -> aborting -> aborted | failed;
// initial | complete | failed | aborted -> deleting (and the strategy is gone).
import type { Decider, DomainEvent } from '../core/decider.js';
import { NotFoundError, UnprocessableError } from '../core/errors.js';
import type { SealedSecret } from '../core/sealed.js';

export const swUpdateStrategyStream = (id: number) => `swUpdateStrategy-${id}`;

export const STRATEGY_STATES = ['initial', 'applying', 'abort requested', 'aborting', 'complete', 'aborted', 'failed', 'deleting'] as const;
export type StrategyState = (typeof STRATEGY_STATES)[number];
/** The states in which the orchestrator has work to do. */
export const ACTIVE_STRATEGY_STATES: readonly StrategyState[] = ['applying', 'abort requested', 'aborting'];
const DELETABLE: readonly StrategyState[] = ['initial', 'complete', 'failed', 'aborted'];

/** Every type dcmanager knows (R24.03 and HEAD); fleetledger orchestrates `prestage`. */
export const STRATEGY_TYPES = ['firmware', 'kube-rootca-update', 'kubernetes', 'patch', 'prestage', 'upgrade', 'software', 'sw-deploy'] as const;
export const ORCHESTRATED_TYPES = ['prestage'] as const;
export type StrategyType = (typeof ORCHESTRATED_TYPES)[number];
export type SubcloudApplyType = 'parallel' | 'serial';
/** DEFAULT_SUBCLOUD_GROUP_MAX_PARALLEL_SUBCLOUDS. */
export const DEFAULT_MAX_PARALLEL = 2;

export interface StrategyStepRef {
  subcloudId: number;
  /** The subcloud's name when the strategy was created (`cloud` in the step's JSON). */
  cloud: string;
}

/** `extra-args` as the API shows them: never the password. */
export interface PrestageExtraArgs {
  force: boolean;
  'prestage-software-version': string;
}

export interface StrategySettings {
  type: StrategyType;
  subcloudApplyType: SubcloudApplyType | null;
  maxParallelSubclouds: number;
  stopOnFailure: boolean;
  extraArgs: PrestageExtraArgs;
}

export type PreparationStatus = 'none' | 'running' | 'completed' | 'failed';

// ---- events ----
export type SwUpdateStrategyEvent =
  | DomainEvent<
      'SwUpdateStrategyCreated',
      StrategySettings & {
        id: number;
        steps: StrategyStepRef[];
        /** base64 as the request gave it: each step's login to its subcloud. Never in a read model. */
        sysadminPassword: SealedSecret;
        at: string;
      }
    >
  | DomainEvent<'SwUpdateStrategyStateChanged', { state: StrategyState; previous: StrategyState; at: string }>
  /** The shared packages of `release` are being prepared for subclouds running `previousRelease` (once per strategy). */
  | DomainEvent<'PrestagePreparationStarted', { operationId: string; release: string; previousRelease: string; at: string }>
  | DomainEvent<'PrestagePreparationCompleted', { operationId: string; at: string }>
  | DomainEvent<'PrestagePreparationFailed', { operationId: string; error: string; at: string }>
  | DomainEvent<'SwUpdateStrategyDeleted', { subcloudIds: number[]; at: string }>;

// ---- commands ----
export type SwUpdateStrategyCommand =
  | ({ type: 'CreateStrategy'; id: number; steps: StrategyStepRef[]; sysadminPassword: SealedSecret; at: string } & { settings: StrategySettings })
  | { type: 'ApplyStrategy'; at: string }
  | { type: 'AbortStrategy'; at: string }
  /** The orchestrator has marked the steps not yet started `aborted`. */
  | { type: 'MarkStrategyAborting'; at: string }
  | { type: 'StartPrestagePreparation'; operationId: string; release: string; previousRelease: string; at: string }
  | { type: 'CompletePrestagePreparation'; operationId: string; at: string }
  | { type: 'FailPrestagePreparation'; operationId: string; error: string; at: string }
  /** Every step has ended (or, after a failure with stop-on-failure, every running one): the step outcomes decide. */
  | { type: 'FinishStrategy'; failedSteps: number; abortedSteps: number; at: string }
  | { type: 'DeleteStrategy'; at: string };

// ---- state ----
export type SwUpdateStrategyState =
  | { status: 'absent' }
  | ({
      status: 'active' | 'deleted';
      id: number;
      state: StrategyState;
      steps: StrategyStepRef[];
      /** The shared packages' preparation; `previousRelease` is the release it prepares from, once started. */
      preparation: { status: PreparationStatus; operationId: string | null; error: string | null; previousRelease?: string };
      createdAt: string;
      updatedAt: string | null;
    } & StrategySettings);

export const initialState = (): SwUpdateStrategyState => ({ status: 'absent' });

// ---- messages (dcmanager's; the API adds "Unable to <verb> strategy of type '<T>': Bad strategy request: ") ----
export const STRATEGY_NOT_FOUND = 'Strategy not found';
export const strategyOfTypeNotFound = (type: string) => `Strategy of type '${type}' not found`;
export const strategyExists = (type: string) => `Strategy of type: '${type}' already exists`;
export const NO_STEPS = 'Strategy has no steps to apply';

/** A manager-side refusal of a strategy request (dcmanager's exceptions.BadRequest, resource `strategy`). */
export class StrategyRequestError extends UnprocessableError {
  constructor(readonly reason: string) {
    super(`Bad strategy request: ${reason}`);
  }
}

// ---- decide ----
export type ActiveStrategy = Exclude<SwUpdateStrategyState, { status: 'absent' }> & { status: 'active' };

function requireActive(state: SwUpdateStrategyState): ActiveStrategy {
  if (state.status !== 'active') throw new NotFoundError(STRATEGY_NOT_FOUND);
  return state as ActiveStrategy;
}

const moveTo = (s: ActiveStrategy, to: StrategyState, at: string): SwUpdateStrategyEvent[] =>
  s.state === to ? [] : [{ type: 'SwUpdateStrategyStateChanged', data: { state: to, previous: s.state, at } }];

export function decide(command: SwUpdateStrategyCommand, state: SwUpdateStrategyState): SwUpdateStrategyEvent[] {
  if (command.type === 'CreateStrategy') {
    if (state.status !== 'absent') throw new StrategyRequestError(strategyExists(state.type));
    if (command.steps.length === 0) throw new StrategyRequestError(NO_STEPS);
    return [
      {
        type: 'SwUpdateStrategyCreated',
        data: { id: command.id, ...command.settings, steps: command.steps, sysadminPassword: command.sysadminPassword, at: command.at },
      },
    ];
  }
  const s = requireActive(state);
  switch (command.type) {
    case 'ApplyStrategy':
      if (s.state !== 'initial') throw new StrategyRequestError(`Strategy in state ${s.state} cannot be applied`);
      return moveTo(s, 'applying', command.at);
    case 'AbortStrategy':
      if (s.state !== 'applying') throw new StrategyRequestError(`Strategy in state ${s.state} cannot be aborted`);
      return moveTo(s, 'abort requested', command.at);
    case 'MarkStrategyAborting':
      return s.state === 'abort requested' ? moveTo(s, 'aborting', command.at) : [];
    case 'StartPrestagePreparation':
      if (!ACTIVE_STRATEGY_STATES.includes(s.state) || s.preparation.status !== 'none') return [];
      return [
        {
          type: 'PrestagePreparationStarted',
          data: { operationId: command.operationId, release: command.release, previousRelease: command.previousRelease, at: command.at },
        },
      ];
    case 'CompletePrestagePreparation':
      if (s.preparation.status !== 'running' || s.preparation.operationId !== command.operationId) return [];
      return [{ type: 'PrestagePreparationCompleted', data: { operationId: command.operationId, at: command.at } }];
    case 'FailPrestagePreparation':
      if (s.preparation.status !== 'running' || s.preparation.operationId !== command.operationId) return [];
      return [{ type: 'PrestagePreparationFailed', data: { operationId: command.operationId, error: command.error, at: command.at } }];
    case 'FinishStrategy':
      if (!ACTIVE_STRATEGY_STATES.includes(s.state)) return [];
      return moveTo(s, finalState(s.state, command.failedSteps, command.abortedSteps), command.at);
    case 'DeleteStrategy':
      if (!DELETABLE.includes(s.state)) throw new StrategyRequestError(`Strategy in state ${s.state} cannot be deleted`);
      return [
        ...moveTo(s, 'deleting', command.at),
        { type: 'SwUpdateStrategyDeleted', data: { subcloudIds: s.steps.map((step) => step.subcloudId), at: command.at } },
      ];
  }
}

/** How a strategy ends: failed if any step failed, else aborted if it was aborted, else complete. */
export function finalState(current: StrategyState, failedSteps: number, abortedSteps: number): StrategyState {
  if (failedSteps > 0) return 'failed';
  if (abortedSteps > 0 || current === 'abort requested' || current === 'aborting') return 'aborted';
  return 'complete';
}

// ---- evolve ----
export function evolve(state: SwUpdateStrategyState, event: SwUpdateStrategyEvent): SwUpdateStrategyState {
  if (event.type === 'SwUpdateStrategyCreated') {
    const d = event.data;
    return {
      status: 'active',
      id: d.id,
      type: d.type,
      subcloudApplyType: d.subcloudApplyType,
      maxParallelSubclouds: d.maxParallelSubclouds,
      stopOnFailure: d.stopOnFailure,
      extraArgs: d.extraArgs,
      state: 'initial',
      steps: d.steps,
      preparation: { status: 'none', operationId: null, error: null },
      createdAt: d.at,
      updatedAt: null,
    };
  }
  if (state.status === 'absent') return state;
  const updatedAt = event.data.at;
  switch (event.type) {
    case 'SwUpdateStrategyStateChanged':
      return { ...state, state: event.data.state, updatedAt };
    case 'PrestagePreparationStarted':
      return {
        ...state,
        preparation: { status: 'running', operationId: event.data.operationId, error: null, previousRelease: event.data.previousRelease },
        updatedAt,
      };
    case 'PrestagePreparationCompleted':
      return { ...state, preparation: { ...state.preparation, status: 'completed' }, updatedAt };
    case 'PrestagePreparationFailed':
      return { ...state, preparation: { ...state.preparation, status: 'failed', error: event.data.error }, updatedAt };
    case 'SwUpdateStrategyDeleted':
      return { ...state, status: 'deleted', updatedAt };
  }
}

export const swUpdateStrategyDecider: Decider<SwUpdateStrategyState, SwUpdateStrategyCommand, SwUpdateStrategyEvent> = {
  decide,
  evolve,
  initialState,
};
