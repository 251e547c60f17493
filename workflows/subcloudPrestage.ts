// The single-subcloud prestage (PATCH /v1.0/subclouds/{ref}/prestage, dcmanager's standalone prestage): after the
// request recorded SubcloudPrestageRequested (pre-checked, prestage-status `prestage-prepare`), the shared packages
// are prepared when the subcloud runs another release, then the packages and the images are prestaged; the
// subcloud's prestage-status follows (prestaging-packages, prestaging-images, complete with prestage-versions, or
// failed with the reason in the event). Each operation's id derives from the request, so a restarted workflow
// resumes the request where its prestage-status says and runs nothing twice.
import type { Logger } from 'pino';
import type { RecordedEvent } from '../adapters/eventstore/port.js';
import { deterministicUuid, systemContext } from '../commands/core/context.js';
import { COLLECTIONS } from '../domain/distcloud/collections.js';
import { needsPreparation, ONGOING_PRESTAGE, PRESTAGE_STATUS } from '../domain/distcloud/prestage.js';
import type { ActiveSubcloud, PrestageRequest } from '../domain/distcloud/subcloud.js';
import { isFinalStepState } from '../domain/distcloud/strategyStep.js';
import type { StrategyStepDoc } from '../projections/distcloud/strategySteps.js';
import type { SubcloudDoc } from '../projections/distcloud/subclouds.js';
import { eventFollower } from './eventFollower.js';
import { runRegistry } from './runs.js';
import { prestageActions, type PrestageActionOptions } from './prestageActions.js';
import type { Workflow, WorkflowDeps } from './workflow.js';

export const SUBCLOUD_PRESTAGE = 'subcloud-prestage';
const CHECKPOINT = 'workflow.subcloudPrestage';

export interface SubcloudPrestage extends Workflow {
  /** Runs (or resumes) one request to its end: the subcloud's prestage-status then. */
  run(subcloudId: number, requestId: string): Promise<string | null>;
  settled(): Promise<void>;
}

export function createSubcloudPrestage(deps: WorkflowDeps, options: PrestageActionOptions = {}): SubcloudPrestage {
  const logger: Logger = deps.logger.child({ workflow: SUBCLOUD_PRESTAGE });
  const runs = runRegistry<string | null>(logger, 'subcloud prestage failed');
  const actions = prestageActions(deps, runs.signal, options);
  const { checkStopped } = runs;

  async function prestage(subcloudId: number, requestId: string): Promise<string | null> {
    const loaded = await deps.subclouds.load(subcloudId);
    const s = loaded.state.status === 'active' ? (loaded.state as ActiveSubcloud) : undefined;
    const found = loaded.events.find((e) => e.type === 'SubcloudPrestageRequested' && (e.data as PrestageRequest).requestId === requestId);
    if (!found || !s || s.prestageRequestId !== requestId || !ONGOING_PRESTAGE.includes(s.prestageStatus ?? '')) return s?.prestageStatus ?? null;
    const request = found.data as PrestageRequest;
    const correlationId = found.metadata.correlationId;
    const ctx = () => ({ ...systemContext(deps.clock.now(), SUBCLOUD_PRESTAGE), correlationId, causationId: requestId });
    const opId = (what: string) => deterministicUuid(SUBCLOUD_PRESTAGE, requestId, what);
    const password = deps.secrets.open(request.sysadminPassword);
    const address = s.bootstrapAddress ?? '';
    const log = logger.child({ subcloud: s.name, requestId });
    const fail = async (reason: string) => {
      log.warn({ reason }, 'prestage failed');
      await actions.setStatus(subcloudId, PRESTAGE_STATUS.failed, ctx(), { reason });
      return PRESTAGE_STATUS.failed;
    };

    // Where the request stands: each step below moves it on (recorded before the next operation starts).
    let status = s.prestageStatus;
    if (status === PRESTAGE_STATUS.prepare) {
      if (needsPreparation(s.softwareVersion, request.release)) {
        const error = await actions.prepare(opId('prepare'), request.release, s.softwareVersion);
        checkStopped();
        if (error !== undefined) return fail(`prestage-prepare: ${error}`);
      }
      await actions.setStatus(subcloudId, (status = PRESTAGE_STATUS.packages), ctx());
    }
    if (status === PRESTAGE_STATUS.packages) {
      const error = await actions.packages(address, opId('packages'), request.release, request.force, password);
      checkStopped();
      if (error !== undefined) return fail(`prestaging-packages: ${error}`);
      await actions.setStatus(subcloudId, (status = PRESTAGE_STATUS.images), ctx());
    }
    if (status === PRESTAGE_STATUS.images) {
      const error = await actions.images(address, opId('images'), request.release, request.force, password);
      checkStopped();
      if (error !== undefined) return fail(`prestaging-images: ${error}`);
      await actions.setStatus(subcloudId, PRESTAGE_STATUS.complete, ctx(), { prestageVersions: request.release });
      log.info('prestage complete');
      return PRESTAGE_STATUS.complete;
    }
    return status;
  }

  const run = (subcloudId: number, requestId: string) => runs.run(requestId, () => prestage(subcloudId, requestId));
  const launch = (subcloudId: number, requestId: string) => runs.launch(requestId, () => prestage(subcloudId, requestId), { subcloudId, requestId });

  const follower = eventFollower({
    eventStore: deps.eventStore,
    readStore: deps.readStore,
    checkpoint: CHECKPOINT,
    logger,
    onChunk(chunk: RecordedEvent[]) {
      for (const e of chunk) {
        if (e.type !== 'SubcloudPrestageRequested' || !e.streamId.startsWith('subcloud-')) continue;
        launch(Number(e.streamId.slice('subcloud-'.length)), (e.data as PrestageRequest).requestId);
      }
    },
  });

  return {
    name: SUBCLOUD_PRESTAGE,
    async start() {
      runs.open();
      const head = await deps.eventStore.headPosition();
      // Resume the requests a stop interrupted: an ongoing prestage that is no strategy step's (a strategy never
      // takes a subcloud whose prestage is ongoing, and no request is taken while a strategy runs).
      const ongoing = await deps.readStore.find<SubcloudDoc>(COLLECTIONS.subclouds, { prestageStatus: { $in: [...ONGOING_PRESTAGE] } });
      for (const s of ongoing) {
        if (!s.prestageRequestId) continue;
        const steps = await deps.readStore.find<StrategyStepDoc>(COLLECTIONS.strategySteps, { subcloudId: s.id });
        if (steps.some((step) => !isFinalStepState(step.state))) continue;
        launch(s.id, s.prestageRequestId);
      }
      await follower.start(head);
    },
    async stop() {
      await Promise.all([runs.close('the prestage workflow is stopping'), follower.stop()]);
    },
    async settled() {
      await follower.reached(await deps.eventStore.headPosition());
      await runs.settled();
    },
    run,
  };
}

/** The single-subcloud prestage workflow (add it to WORKFLOWS). */
export const subcloudPrestage = (deps: WorkflowDeps): Workflow => createSubcloudPrestage(deps);
