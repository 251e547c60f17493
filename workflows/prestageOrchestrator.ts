// The prestage strategy orchestrator (dcmanager's PrestageOrchThread, spec §1.6, §4.2): applies the strategy's steps
// in a rolling pool of max-parallel-subclouds, each step through its four states, each state recorded before its
// work starts:
//   initial -> (unmanaged now? failed `Subcloud <n> is unmanaged.`)
//   prestage-precheck    the initial checks again, then the subcloud's own pre-check (agent `prestage-precheck`):
//                        not simplex, offline ... complete the step with the reason (a skip); alarms without force fail
//   prestage-prepare     when the subcloud runs another release: the shared packages, prepared once for the whole
//                        strategy on the system controller's agent; once that failed, every later step fails at once
//                        with `Aborted due to previous prestage-prepare failure`
//   prestaging-packages  agent `prestage-packages`
//   prestaging-images    agent `prestage-images`, then complete (prestage-status complete, prestage-versions)
// A failure: the step `failed` with `<state>: <error>`, the subcloud's prestage-status `failed`.
//
// Event-driven: a step starts the moment another ends (no polling), up to max-parallel-subclouds at once, in the
// strategy's step order. stop-on-failure: no step starts after a failure. Abort: the steps not started become
// `aborted`; running ones run to their end. Then the strategy ends failed / aborted / complete (the decider says).
// Restart: start() resumes every strategy still applying or aborting; a step is resumed in the state it recorded,
// and the operation of that state has the same id as before, so the agent answers with it instead of running it again.
import type { Logger } from 'pino';
import type { RecordedEvent } from '../adapters/eventstore/port.js';
import { deterministicUuid, systemContext, type CommandContext } from '../commands/core/context.js';
import type { SwUpdateStrategyCommands } from '../commands/distcloud/swUpdateStrategies.js';
import { COLLECTIONS } from '../domain/distcloud/collections.js';
import {
  failedStepDetails,
  initialPrestageCheck,
  needsPreparation,
  precheckVerdict,
  PREPARE_ABORTED,
  PRESTAGE_STATUS,
  prestageFailureMessage,
  SUBCLOUD_INFO_UNAVAILABLE,
  subcloudUnmanaged,
} from '../domain/distcloud/prestage.js';
import type { ActiveSubcloud } from '../domain/distcloud/subcloud.js';
import { isFinalStepState, type StepState, type StrategyStepCommand } from '../domain/distcloud/strategyStep.js';
import {
  ACTIVE_STRATEGY_STATES,
  swUpdateStrategyStream,
  type StrategyState,
  type StrategyStepRef,
  type SwUpdateStrategyEvent,
  type ActiveStrategy,
} from '../domain/distcloud/swUpdateStrategy.js';
import type { StrategyStepDoc } from '../projections/distcloud/strategySteps.js';
import type { SwUpdateStrategyDoc } from '../projections/distcloud/swUpdateStrategies.js';
import { eventFollower } from './eventFollower.js';
import { limiter, runRegistry, WorkflowStopped as Stopped } from './runs.js';
import { prestageActions, type PrestageActionOptions } from './prestageActions.js';
import type { Workflow, WorkflowDeps } from './workflow.js';

export const PRESTAGE_ORCHESTRATOR = 'prestage-orchestrator';
export const PRESTAGE_ORCHESTRATOR_CHECKPOINT = 'workflow.prestageOrchestrator';

export interface StrategyReport {
  strategyId: number;
  state: StrategyState | 'deleted';
  /** Each step's state at the end, by subcloud name. */
  steps: Record<string, StepState>;
}

export interface PrestageOrchestrator extends Workflow {
  /** Runs (or resumes) one strategy to its end. */
  run(strategyId: number): Promise<StrategyReport>;
  /** Resolves once the strategies this workflow has started are over. */
  settled(): Promise<void>;
}

/** An abort for a strategy being run: it can arrive before the run is ready to act on it, so it is remembered. */
interface AbortHandle {
  seen: boolean;
  onAbort?: () => void;
}

export function createPrestageOrchestrator(deps: WorkflowDeps, options: PrestageActionOptions = {}): PrestageOrchestrator {
  const { readStore, clock } = deps;
  const logger: Logger = deps.logger.child({ workflow: PRESTAGE_ORCHESTRATOR });
  const runs = runRegistry<StrategyReport>(logger, 'prestage strategy orchestration failed');
  const aborts = new Map<number, AbortHandle>();
  const actions = prestageActions(deps, runs.signal, options);
  const { checkStopped } = runs;

  function strategies(): SwUpdateStrategyCommands {
    if (!deps.orchestration) throw new Error('the prestage orchestrator needs the strategy commands');
    return deps.orchestration.strategies;
  }

  /** From the strategy's events: its creation (the sealed password) and the apply request's correlation id. */
  function origins(events: RecordedEvent[]) {
    let created: Extract<SwUpdateStrategyEvent, { type: 'SwUpdateStrategyCreated' }>['data'] | undefined;
    let correlationId: string | undefined;
    for (const e of events) {
      if (e.type === 'SwUpdateStrategyCreated') created = e.data as typeof created;
      if (e.type === 'SwUpdateStrategyStateChanged' && (e.data as { state: string }).state === 'applying') correlationId = e.metadata.correlationId;
    }
    return { created, correlationId };
  }

  async function orchestrate(strategyId: number, handle: AbortHandle): Promise<StrategyReport> {
    const cmds = strategies();
    const loaded = await cmds.load(strategyId);
    const { created, correlationId } = origins(loaded.events);
    if (loaded.state.status !== 'active' || !created || !ACTIVE_STRATEGY_STATES.includes(loaded.state.state)) {
      return { strategyId, state: loaded.state.status === 'active' ? loaded.state.state : 'deleted', steps: {} };
    }
    const strategy = loaded.state as ActiveStrategy;
    const log = logger.child({ strategyId });
    // Every record of the orchestration carries the apply request's correlation id.
    const ctx = (): CommandContext => ({
      ...systemContext(clock.now(), PRESTAGE_ORCHESTRATOR),
      ...(correlationId ? { correlationId } : {}),
      causationId: swUpdateStrategyStream(strategyId),
    });
    const at = () => clock.now().toISOString();
    const password = deps.secrets.open(created.sysadminPassword);
    const release = strategy.extraArgs['prestage-software-version'];
    const force = strategy.extraArgs.force;
    const width = strategy.maxParallelSubclouds;

    // Where each step stands (the read model has the strategy's creation: the API answered after it).
    const docs = await readStore.find<StrategyStepDoc>(COLLECTIONS.strategySteps, { strategyId }, { sort: { subcloudId: 1 } });
    const stateOf = new Map<number, StepState>(docs.map((d) => [d.subcloudId, d.state]));
    const outcome: Record<string, StepState> = {};
    let failed = 0;
    let aborted = 0;
    const pending: StrategyStepRef[] = [];
    const resuming: (StrategyStepRef & { from: StepState })[] = [];
    for (const step of strategy.steps) {
      const state = stateOf.get(step.subcloudId) ?? 'initial';
      outcome[step.cloud] = state;
      if (state === 'failed') failed++;
      else if (state === 'aborted') aborted++;
      else if (state === 'initial') pending.push(step);
      else if (!isFinalStepState(state)) resuming.push({ ...step, from: state });
    }
    let abortWanted = strategy.state !== 'applying';
    const noMoreStarts = () => abortWanted || runs.stopping() || (strategy.stopOnFailure && failed > 0);
    log.info({ steps: strategy.steps.length, pending: pending.length, resuming: resuming.length, maxParallel: width }, 'applying prestage strategy');

    // The shared packages' preparation: once per strategy; whoever comes first runs it, the others wait for it.
    let preparation: Promise<{ error?: string; ranHere: boolean }> | undefined;
    async function prepared(previousRelease: string): Promise<string | undefined> {
      let mine = false;
      if (!preparation) {
        mine = true;
        preparation = prepare(previousRelease);
      }
      const r = await preparation;
      if (r.error === undefined) return undefined;
      return mine && r.ranHere ? r.error : PREPARE_ABORTED;
    }
    async function prepare(previousRelease: string): Promise<{ error?: string; ranHere: boolean }> {
      const operationId = deterministicUuid(PRESTAGE_ORCHESTRATOR, String(strategyId), 'prepare');
      let s = (await cmds.load(strategyId)).state as ActiveStrategy;
      if (s.preparation.status === 'completed') return { ranHere: false };
      if (s.preparation.status === 'failed') return { error: s.preparation.error ?? PREPARE_ABORTED, ranHere: false };
      if (s.preparation.status === 'none') {
        s = (await cmds.record(strategyId, { type: 'StartPrestagePreparation', operationId, release, previousRelease, at: at() }, ctx())).state as ActiveStrategy;
      }
      // A preparation started before a restart is followed as it was started (same id, same params).
      const opId = s.preparation.operationId ?? operationId;
      const error = await actions.prepare(opId, release, s.preparation.previousRelease ?? previousRelease);
      checkStopped();
      if (error === undefined) {
        await cmds.record(strategyId, { type: 'CompletePrestagePreparation', operationId: opId, at: at() }, ctx());
        return { ranHere: true };
      }
      log.warn({ error }, 'prestage-prepare failed');
      await cmds.record(strategyId, { type: 'FailPrestagePreparation', operationId: opId, error, at: at() }, ctx());
      return { error, ranHere: true };
    }

    async function runStep(step: StrategyStepRef, from: StepState): Promise<StepState> {
      const record = async (command: StrategyStepCommand) =>
        (await cmds.recordStep(strategyId, step.subcloudId, command, ctx())).state.state;
      const opId = (state: string) => deterministicUuid(PRESTAGE_ORCHESTRATOR, String(strategyId), String(step.subcloudId), state);
      const fail = async (state: string, error: string) => {
        await actions.setStatus(step.subcloudId, PRESTAGE_STATUS.failed, ctx(), { reason: error });
        return record({ type: 'FailStep', details: failedStepDetails(state, error), at: at() });
      };
      const subcloud = async () => {
        const { state } = await deps.subclouds.load(step.subcloudId);
        return state.status === 'active' ? (state as ActiveSubcloud) : undefined;
      };

      const s = await subcloud();
      let state = from;
      if (state === 'initial') {
        if (!s) return record({ type: 'FailStep', details: `Subcloud ${step.cloud} does not exist`, at: at() });
        if (s.managementState === 'unmanaged') return record({ type: 'FailStep', details: subcloudUnmanaged(s.name), at: at() });
        state = await record({ type: 'EnterStepState', state: 'prestage-precheck', at: at() });
      }
      if (!s) return fail(state, `Subcloud ${step.cloud} does not exist`);
      const address = s.bootstrapAddress ?? '';
      if (state === 'prestage-precheck') {
        const skip = initialPrestageCheck(s);
        if (skip) return record({ type: 'CompleteStep', details: prestageFailureMessage(skip), at: at() });
        const checked = await actions.precheck(address, opId(state), release);
        checkStopped();
        if ('error' in checked) {
          log.warn({ subcloud: s.name, error: checked.error }, 'prestage pre-check could not run');
          return fail(state, prestageFailureMessage({ subcloud: s.name, details: SUBCLOUD_INFO_UNAVAILABLE, skip: false }));
        }
        const verdict = precheckVerdict(s.name, checked.facts, force);
        if (verdict?.skip) return record({ type: 'CompleteStep', details: prestageFailureMessage(verdict), at: at() });
        if (verdict) return fail(state, prestageFailureMessage(verdict));
        await actions.setStatus(s.id, PRESTAGE_STATUS.prepare, ctx());
        state = await record({ type: 'EnterStepState', state: 'prestage-prepare', at: at() });
      }
      if (state === 'prestage-prepare') {
        if (needsPreparation(s.softwareVersion, release)) {
          const error = await prepared(s.softwareVersion);
          checkStopped();
          if (error !== undefined) return fail(state, error);
        }
        await actions.setStatus(s.id, PRESTAGE_STATUS.packages, ctx());
        state = await record({ type: 'EnterStepState', state: 'prestaging-packages', at: at() });
      }
      if (state === 'prestaging-packages') {
        const error = await actions.packages(address, opId(state), release, force, password);
        checkStopped();
        if (error !== undefined) return fail(state, error);
        await actions.setStatus(s.id, PRESTAGE_STATUS.images, ctx());
        state = await record({ type: 'EnterStepState', state: 'prestaging-images', at: at() });
      }
      if (state === 'prestaging-images') {
        const error = await actions.images(address, opId(state), release, force, password);
        checkStopped();
        if (error !== undefined) return fail(state, error);
        await actions.setStatus(s.id, PRESTAGE_STATUS.complete, ctx(), { prestageVersions: release });
        return record({ type: 'CompleteStep', at: at() });
      }
      return state;
    }

    // Steps not started yet; an abort takes them out (and marks them aborted) before their turn comes.
    const waiting = new Set(pending);
    let abortDone: Promise<void> = Promise.resolve();
    const abortPending = async () => {
      const unstarted = [...waiting];
      waiting.clear();
      for (const step of unstarted) {
        const end = (await cmds.recordStep(strategyId, step.subcloudId, { type: 'AbortStep', at: at() }, ctx())).state.state;
        outcome[step.cloud] = end;
        if (end === 'aborted') aborted++;
      }
      await cmds.record(strategyId, { type: 'MarkStrategyAborting', at: at() }, ctx());
    };
    const onAbort = () => {
      if (abortWanted) return;
      abortWanted = true;
      abortDone = abortPending();
    };
    if (abortWanted) abortDone = abortPending();
    else if (handle.seen) onAbort();
    handle.onAbort = onAbort;

    // The rolling pool: a slot that frees goes to the next step at once, in order (resumed steps first). A step
    // whose turn comes after an abort, a stop or (with stop-on-failure) a failure does not start.
    const slot = limiter(width);
    const stepRun = async (step: StrategyStepRef, from: StepState) => {
      const end = await runStep(step, from);
      outcome[step.cloud] = end;
      if (end === 'failed') failed++;
    };
    const ended = await Promise.allSettled([
      ...resuming.map((step) => slot(() => stepRun(step, step.from))),
      ...pending.map((step) =>
        slot(async () => {
          if (!waiting.delete(step) || noMoreStarts()) return;
          await stepRun(step, 'initial');
        }),
      ),
    ]);
    const broke = ended.find((r): r is PromiseRejectedResult => r.status === 'rejected' && !(r.reason instanceof Stopped));
    if (broke) throw broke.reason;
    await abortDone;
    checkStopped();
    const end = await cmds.record(strategyId, { type: 'FinishStrategy', failedSteps: failed, abortedSteps: aborted, at: at() }, ctx());
    const finalState = end.state.status === 'active' ? end.state.state : 'deleted';
    log.info({ state: finalState, failed, aborted }, 'prestage strategy finished');
    return { strategyId, state: finalState, steps: outcome };
  }

  /** The strategy's run: its abort handle lives as long as the run. */
  const work = (strategyId: number) => async () => {
    const handle: AbortHandle = { seen: false };
    aborts.set(strategyId, handle);
    try {
      return await orchestrate(strategyId, handle);
    } finally {
      aborts.delete(strategyId);
    }
  };
  const run = (strategyId: number) => runs.run(String(strategyId), work(strategyId));
  const launch = (strategyId: number) => runs.launch(String(strategyId), work(strategyId), { strategyId });

  const follower = eventFollower({
    eventStore: deps.eventStore,
    readStore,
    checkpoint: PRESTAGE_ORCHESTRATOR_CHECKPOINT,
    logger,
    onChunk(chunk: RecordedEvent[]) {
      for (const e of chunk) {
        if (e.type !== 'SwUpdateStrategyStateChanged' || !e.streamId.startsWith('swUpdateStrategy-')) continue;
        const id = Number(e.streamId.slice('swUpdateStrategy-'.length));
        const to = (e.data as { state: StrategyState }).state;
        if (to === 'applying') launch(id);
        else if (to === 'abort requested') {
          const handle = aborts.get(id);
          if (!handle) launch(id);
          else {
            handle.seen = true;
            handle.onAbort?.();
          }
        }
      }
    },
  });

  return {
    name: PRESTAGE_ORCHESTRATOR,
    async start() {
      if (!deps.orchestration) return;
      runs.open();
      // From the head: what is unfinished now is resumed from the read model (caught up: start() runs after the
      // projections), what comes later is followed.
      const head = await deps.eventStore.headPosition();
      const unfinished = await readStore.find<SwUpdateStrategyDoc>(COLLECTIONS.swUpdateStrategies, { state: { $in: [...ACTIVE_STRATEGY_STATES] } });
      for (const s of unfinished) launch(s.id);
      await follower.start(head);
    },
    async stop() {
      await Promise.all([runs.close('the prestage orchestrator is stopping'), follower.stop()]);
    },
    async settled() {
      await follower.reached(await deps.eventStore.headPosition());
      await runs.settled();
    },
    run,
  };
}

/** The prestage orchestrator (add it to WORKFLOWS). */
export const prestageOrchestrator = (deps: WorkflowDeps): Workflow => createPrestageOrchestrator(deps);
