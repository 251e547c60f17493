// The subcloud deploy workflow: after `POST /v1.0/subclouds` it runs the new subcloud's deploy phases through the
// subcloud agent (docs/subcloud-agent.md), recording every step as an event of the subcloud (domain/distcloud/
// subcloud.ts decides what each step may do; this file decides only when to take it).
//
// Plan (dcmanager's add_subcloud, spec §1.1.1):
// - normal:    create (controller-side: creating -> create-complete), install (only with install values),
//              bootstrap, config (only with a deploy config). The last phase ends in `complete`.
// - migrate:   rehome only (pre-rehome -> rehoming -> complete / rehome-failed), naming this system controller.
// - secondary: nothing.
// A phase on the agent: StartDeployPhase (pre-<phase>) -> ReportDeployProgress running (<phase>ing, recorded
// before the POST, as dcmanager sets it before running the playbook) -> POST /v1/operations -> poll it, recording
// progress notes when the step or the 10 % bucket changes -> CompleteDeployPhase / FailDeployPhase. An agent that
// cannot be reached (after the client's bounded retries) fails the phase with "could not be reached".
//
// Exactly once:
// - the operation id of a phase is deterministicUuid('subcloud-deploy', id, region, phase, attempt): a restarted
//   workflow POSTs the same id and the agent answers with the operation it already has;
// - every recorded step uses the idempotency key `<subcloud id>:<operation id>:<step>`, so its events have
//   deterministic ids and a repeated step appends nothing.
//
// Events it follows: SubcloudAdded only, from `$all` after the checkpoint `workflow.subcloudDeploy` kept in the read
// store. A SubcloudAdded seen again (e.g. the in-memory read store lost the checkpoint) is harmless: the subcloud's
// stream says where its deploy stands.
//
// Restart rule (start(), before subscribing), for every subcloud the read model shows in a transitory deploy state:
// - `not-deployed` with no operation: never started (it was waiting for a slot): start it;
// - a controller-side phase (create) in progress: complete it and go on (nothing ran elsewhere);
// - `pre-<phase>` of an agent phase: nothing was sent to the agent yet (the POST follows the `running` event):
//   run the phase from there, with the same operation id;
// - `<phase>ing`: GET /v1/operations/{id}: running -> follow it; succeeded -> record it and go on; failed (also
//   `interrupted`) -> record the failure with the agent's message (the same failed state TRANSITORY_STATES
//   names, with the reason); 404 (the agent does not know it) or unreachable -> MarkInterruptedDeploy (the state
//   TRANSITORY_STATES names). A failed phase is never re-run here: a retry is a new request with a new attempt.
//
// stop(): no new work; the subscription ends; steps in flight stop at their next safe point (an operation keeps
// running on the agent and is resumed as above after a restart).
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { RecordedEvent } from '../adapters/eventstore/port.js';
import type { Doc } from '../adapters/readstore/port.js';
import type { Operation, OperationKind, SystemControllerRef } from '../adapters/subcloudAgent/contract.js';
import { SecretUnavailableError } from '../adapters/secrets/secretBox.js';
import { AgentError, AgentUnreachableError } from '../adapters/subcloudAgent/errors.js';
import type { SealedSecret } from '../domain/core/sealed.js';
import { deterministicUuid, systemContext } from '../commands/core/context.js';
import { COLLECTIONS } from '../domain/distcloud/collections.js';
import {
  DEPLOY_PHASES,
  DEPLOY_STATUS,
  TRANSITORY_STATES,
  subcloudStream,
  type ActiveSubcloud,
  type DeployPhase,
  type SubcloudAddedData,
  type SubcloudCommand,
  type SubcloudFields,
} from '../domain/distcloud/subcloud.js';
import { eventFollower } from './eventFollower.js';
import type { Workflow, WorkflowDeps, WorkflowFactory } from './workflow.js';

export const SUBCLOUD_DEPLOY_WORKFLOW = 'subcloud-deploy';
export const SUBCLOUD_DEPLOY_CHECKPOINT = 'workflow.subcloudDeploy';

/** dcmanager's names for this system controller; the address is the default management floating address. */
export const DEFAULT_SYSTEM_CONTROLLER: SystemControllerRef = {
  name: 'SystemController',
  address: '192.168.204.2',
  region_name: 'RegionOne',
  uuid: null,
};

export interface SubcloudDeployOptions {
  /** Deploys at once; more wait for a slot (default 50). */
  concurrency?: number;
  /** Between two polls of a running operation (default 2 s; the contract asks for at least 1 s in production). */
  pollMs?: number;
  /** Who the subclouds answer to after bootstrap or rehome. */
  systemController?: SystemControllerRef;
}

/** Progress notes are recorded only when this bucket changes. */
const PERCENT_BUCKET = 10;
/** Form fields of the add request that are not bootstrap values. */
const FORM_FIELDS = new Set(['bootstrap-address', 'description', 'location', 'group_id', 'migrate', 'secondary', 'release', 'enroll']);

interface Step {
  phase: DeployPhase;
  /** The agent operation of the phase; none for a controller-side phase. */
  kind?: OperationKind;
}

/** The phases of a new subcloud's deployment, in order. */
export function deployPlan(added: SubcloudAddedData): Step[] {
  if (added.secondary) return [];
  if (added.migrate) return [{ phase: 'rehome', kind: 'rehome' }];
  return [
    { phase: 'create' },
    ...(added.dataInstall ? [{ phase: 'install' as const, kind: 'install' as const }] : []),
    { phase: 'bootstrap', kind: 'bootstrap' },
    ...(added.hasDeployConfig ? [{ phase: 'config' as const, kind: 'config' as const }] : []),
  ];
}

/** The operation id of a phase: the same on every run of the workflow for one request (attempt). */
export const deployOperationId = (id: number, region: string, phase: DeployPhase, attempt = 1) =>
  deterministicUuid(SUBCLOUD_DEPLOY_WORKFLOW, String(id), region, phase, String(attempt));

/** Ends the workflow's wait at a safe point. */
class Stopped extends Error {}

export function subcloudDeployWorkflow(options: SubcloudDeployOptions = {}): WorkflowFactory {
  return (deps) => deployWorkflow(deps, options);
}

/** The deploy workflow with its defaults (add it to WORKFLOWS). */
export const subcloudDeploy: WorkflowFactory = subcloudDeployWorkflow();

function deployWorkflow(deps: WorkflowDeps, options: SubcloudDeployOptions): Workflow {
  const { eventStore, readStore, upcasters, subclouds, agent, clock, secrets } = deps;
  const logger: Logger = deps.logger.child({ workflow: SUBCLOUD_DEPLOY_WORKFLOW });
  const concurrency = Math.max(1, options.concurrency ?? 50);
  const pollMs = options.pollMs ?? Math.max(20, 2_000 * (deps.settings.timeScale ?? 1));
  const systemController = options.systemController ?? DEFAULT_SYSTEM_CONTROLLER;

  /** One signal stops every deploy in flight; each holds up to two listeners on it (a wait and a request). */
  const stopController = () => {
    const c = new AbortController();
    setMaxListeners(concurrency * 2 + 1, c.signal);
    return c;
  };
  let stopping = false;
  let abort = stopController();
  /** Subcloud ids waiting for a slot, and those queued or running (never twice). */
  const waiting: number[] = [];
  const known = new Set<number>();
  const running = new Set<Promise<void>>();

  // ---- scheduling ----
  function enqueue(id: number) {
    if (stopping || known.has(id)) return;
    known.add(id);
    waiting.push(id);
    pump();
  }

  function pump() {
    while (!stopping && running.size < concurrency && waiting.length > 0) {
      const id = waiting.shift()!;
      const p: Promise<void> = deploy(id)
        .catch((err: unknown) => {
          if (!(err instanceof Stopped)) logger.error({ err, subcloudId: id }, 'subcloud deploy step failed; the subcloud stays where it is');
        })
        .finally(() => {
          running.delete(p);
          known.delete(id);
          pump();
        });
      running.add(p);
    }
  }

  // ---- recording ----
  const record = (id: number, key: string, command: SubcloudCommand) =>
    subclouds.record(id, command, systemContext(clock.now(), SUBCLOUD_DEPLOY_WORKFLOW, `${id}:${key}`));
  const at = () => clock.now().toISOString();

  async function addedData(id: number): Promise<SubcloudAddedData | undefined> {
    const [first] = await eventStore.readStream(subcloudStream(id), { maxCount: 1 });
    if (!first) return undefined;
    const event = upcasters.upcast(first.type, first.metadata.schemaVersion, first.data);
    return event.type === 'SubcloudAdded' ? (event.data as SubcloudAddedData) : undefined;
  }

  async function current(id: number): Promise<ActiveSubcloud | undefined> {
    const { state } = await subclouds.load(id);
    return state.status === 'active' ? (state as ActiveSubcloud) : undefined;
  }

  const checkStopped = () => {
    if (stopping) throw new Stopped();
  };

  // ---- one subcloud ----
  async function deploy(id: number): Promise<void> {
    const added = await addedData(id);
    let state = await current(id);
    if (!added || !state) return;
    const plan = deployPlan(added);
    const ids = plan.map((s) => deployOperationId(id, added.regionName, s.phase));
    let index: number;
    let resume = false;
    if (!state.operation) {
      if (state.deployStatus !== DEPLOY_STATUS.none) return;
      index = 0;
    } else {
      index = ids.indexOf(state.operation.id);
      // Another operation (not this deployment's) or a settled one: nothing to do.
      if (index < 0 || state.operation.status === 'failed') return;
      if (state.operation.status === 'completed') index += 1;
      else resume = true;
    }
    for (; index < plan.length; index++) {
      checkStopped();
      const step = plan[index]!;
      const ok = await runPhase(id, added, state, step, ids[index]!, index === plan.length - 1, resume);
      resume = false;
      if (!ok) return;
      state = await current(id);
      if (!state) return;
    }
  }

  /** Runs (or resumes) one phase; true when it completed. */
  async function runPhase(
    id: number,
    added: SubcloudAddedData,
    state: SubcloudFields,
    step: Step,
    operationId: string,
    last: boolean,
    resume: boolean,
  ): Promise<boolean> {
    const states = DEPLOY_PHASES[step.phase];
    const complete = (softwareVersion?: string) =>
      record(id, `${operationId}:complete`, {
        type: 'CompleteDeployPhase',
        operationId,
        ...(softwareVersion ? { softwareVersion } : {}),
        ...(last && states.complete !== DEPLOY_STATUS.done ? { deployComplete: true } : {}),
        at: at(),
      });
    const fail = (errorDescription: string) =>
      record(id, `${operationId}:fail`, { type: 'FailDeployPhase', operationId, errorDescription, at: at() });

    if (!resume) await record(id, `${operationId}:start`, { type: 'StartDeployPhase', operationId, phase: step.phase, at: at() });
    if (!step.kind) {
      await complete();
      return true;
    }
    const address = added.bootstrapAddress;
    if (!address) {
      await fail(`Subcloud ${added.name} has no bootstrap address to reach it`);
      return false;
    }

    let op: Operation | undefined;
    if (resume && state.deployStatus === states.running) {
      // After a restart: what does the agent know of this operation?
      try {
        op = await agent.operation(address, operationId, { signal: abort.signal });
      } catch (err) {
        checkStopped();
        if (err instanceof AgentUnreachableError || (err instanceof AgentError && err.code === 'not_found')) {
          logger.warn({ subcloudId: id, operationId, err: err.message }, 'deploy operation lost after a restart; marking it interrupted');
          await record(id, `${operationId}:interrupted`, { type: 'MarkInterruptedDeploy', at: at() });
          return false;
        }
        throw err;
      }
    } else {
      // The phase's parameters first: a secret this site cannot open fails the phase's preparation.
      let given: Record<string, unknown>;
      try {
        given = params(step.kind, added);
      } catch (err) {
        if (!(err instanceof SecretUnavailableError)) throw err;
        await fail(`Subcloud ${added.name}: cannot start the ${step.kind} operation: ${err.message}`);
        return false;
      }
      await record(id, `${operationId}:running`, { type: 'ReportDeployProgress', operationId, running: true, at: at() });
      checkStopped();
      try {
        op = await agent.startOperation(address, { id: operationId, kind: step.kind, params: given }, { signal: abort.signal });
      } catch (err) {
        checkStopped();
        await fail(agentFailure(added, address, err, `start the ${step.kind} operation`));
        return false;
      }
    }

    // Follow the operation to its end, recording progress notes.
    let notes = Promise.resolve();
    let lastBucket = '';
    const note = (o: Operation) => {
      if (o.state !== 'running') return;
      const bucket = `${o.progress.step_index ?? o.progress.step}:${Math.floor(o.progress.percent / PERCENT_BUCKET)}`;
      if (bucket === lastBucket) return;
      lastBucket = bucket;
      const detail = `${o.progress.message} (${o.progress.percent}%)`;
      notes = notes
        .then(() => record(id, `${operationId}:progress:${bucket}`, { type: 'ReportDeployProgress', operationId, detail, at: at() }))
        .then(
          () => undefined,
          (err: unknown) => logger.warn({ err, subcloudId: id, operationId }, 'could not record deploy progress'),
        );
    };
    if (op.state === 'running') {
      note(op);
      try {
        op = await agent.waitForOperation(address, operationId, { onProgress: note, pollMs, signal: abort.signal });
      } catch (err) {
        await notes;
        checkStopped();
        await fail(agentFailure(added, address, err, `follow the ${step.kind} operation`));
        return false;
      }
    }
    await notes;
    if (op.state === 'succeeded') {
      const version = op.result?.software_version;
      await complete(step.kind === 'install' && typeof version === 'string' ? version : undefined);
      return true;
    }
    const error = op.error;
    await fail(error ? `${error.message}${error.code === 'operation_failed' ? '' : ` (${error.code})`}` : `${step.kind} failed`);
    return false;
  }

  /** A sealed secret's text (throws SecretUnavailableError when this site lacks its key). */
  const opened = (sealed: SealedSecret | undefined) => (sealed ? secrets.open(sealed) : undefined);
  const withText = (key: string, value: string | undefined) => (value === undefined ? {} : { [key]: value });

  /** What the agent is asked to do for a phase, from the add request (the same on every run: the POST repeats). */
  function params(kind: OperationKind, added: SubcloudAddedData): Record<string, unknown> {
    const values = added.bootstrapValues;
    switch (kind) {
      case 'install': {
        const install = added.dataInstall ?? {};
        return {
          ...install,
          bmc_password: opened(added.secrets?.bmcPassword) ?? '',
          software_version: typeof install.software_version === 'string' ? install.software_version : added.softwareVersion,
        };
      }
      case 'bootstrap': {
        const bootstrap = Object.fromEntries(Object.entries(values).filter(([k]) => !FORM_FIELDS.has(k)));
        return {
          ...bootstrap,
          name: added.name,
          region_name: added.regionName,
          system_mode: values.system_mode ?? 'simplex',
          system_controller: systemController,
          ...withText('sysadmin_password', opened(added.secrets?.sysadminPassword)),
        };
      }
      case 'config':
        return withText('deploy_config', opened(added.secrets?.deployConfig));
      case 'rehome':
        return {
          system_controller: systemController,
          ...(typeof values.systemcontroller_gateway_address === 'string'
            ? { systemcontroller_gateway_address: values.systemcontroller_gateway_address }
            : {}),
        };
      default:
        return {};
    }
  }

  // ---- restart and subscription ----
  async function recover() {
    const transitory = Object.keys(TRANSITORY_STATES);
    const docs = await readStore.find<Doc & { id: number }>(COLLECTIONS.subclouds, { deployStatus: { $in: transitory } });
    for (const d of docs) enqueue(d.id);
    if (docs.length) logger.info({ subclouds: docs.length }, 'resuming deploys found in a transitory state');
  }

  async function onEvents(chunk: RecordedEvent[]) {
    for (const e of chunk) {
      if (e.type !== 'SubcloudAdded' || !e.streamId.startsWith('subcloud-')) continue;
      const id = Number(e.streamId.slice('subcloud-'.length));
      // Already started or settled (the read model knows): the restart rule covers it. Not there yet: look.
      const doc = await readStore.get<Doc & { deployStatus: string }>(COLLECTIONS.subclouds, String(id));
      if (doc && doc.deployStatus !== DEPLOY_STATUS.none) continue;
      enqueue(id);
    }
  }

  const follower = eventFollower({ eventStore, readStore, checkpoint: SUBCLOUD_DEPLOY_CHECKPOINT, logger, onChunk: onEvents });

  return {
    name: SUBCLOUD_DEPLOY_WORKFLOW,
    async start() {
      stopping = false;
      abort = stopController();
      const from = await follower.stored();
      await recover();
      await follower.start(from);
    },
    async stop() {
      stopping = true;
      waiting.length = 0;
      abort.abort(new Stopped('the deploy workflow is stopping'));
      await follower.stop();
      await Promise.all([...running]);
    },
  };
}

/** The error description of a phase the agent could not do or could not be asked to do. */
function agentFailure(added: SubcloudAddedData, address: string, err: unknown, what: string): string {
  if (err instanceof AgentUnreachableError) {
    return `Subcloud ${added.name} could not be reached at bootstrap address ${address} to ${what}: ${err.reason} after ${err.attempts} attempt(s)`;
  }
  if (err instanceof AgentError) {
    if (err.code === 'not_found') return `The subcloud agent at ${address} does not know the operation any more (lost)`;
    return `The subcloud agent at ${address} refused to ${what}: ${err.code}: ${err.message.replace(/^.*?: \d+ [a-z_]+: /, '')}`;
  }
  return `Could not ${what} on subcloud ${added.name}: ${err instanceof Error ? err.message : String(err)}`;
}
