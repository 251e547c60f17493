// /v1.0/sw-update-strategy: dcmanager-compatible strategy routes (spec §1.6). Writes go through the strategy
// commands; a manager-side refusal is a 422 in dcmanager's words (`Unable to <verb> strategy of type '<T>': …`),
// reads come from the strategy and step read models. `?type=` is accepted on every verb.
import { Router, type Request } from 'express';
import type { ReadStore } from '../../adapters/readstore/port.js';
import type { SwUpdateStrategyCommands } from '../../commands/distcloud/swUpdateStrategies.js';
import type { Clock } from '../../domain/core/clock.js';
import { NotFoundError, UnprocessableError, ValidationError } from '../../domain/core/errors.js';
import { COLLECTIONS } from '../../domain/distcloud/collections.js';
import { StrategyRequestError, type SwUpdateStrategyState } from '../../domain/distcloud/swUpdateStrategy.js';
import type { StrategyInput } from '../../domain/distcloud/strategyRequest.js';
import type { StrategyStepDoc } from '../../projections/distcloud/strategySteps.js';
import { commandContext } from '../http/context.js';
import { jsonObjectBody } from '../http/validation.js';
import type { WriteResponder } from '../http/writes.js';
import { presentStrategy, presentStrategyStep } from './presenters.js';

export interface SwUpdateStrategyRoutesDeps {
  commands: SwUpdateStrategyCommands;
  readStore: ReadStore;
  clock: Clock;
  writes: WriteResponder;
}

export const STEP_NOT_FOUND = 'Strategy step not found';
/** The cloud name of the system controller's own step (none for prestage: it is never found). */
const SYSTEM_CONTROLLER = 'SystemController';

const typeFilter = (req: Request): string | undefined => {
  const t = req.query.type;
  return typeof t === 'string' && t !== '' ? t : undefined;
};

/** A refusal from the orchestrator's side, as dcmanager's API wraps the RemoteError. */
async function asManager<T>(verb: string, type: string | undefined, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof StrategyRequestError || (err instanceof NotFoundError && verb !== 'show')) {
      throw new UnprocessableError(`Unable to ${verb} strategy of type '${type ?? 'None'}': ${err.message}`);
    }
    throw err;
  }
}

const present = (s: SwUpdateStrategyState) => {
  if (s.status === 'absent') throw new NotFoundError('Strategy not found');
  return presentStrategy(s);
};

export function swUpdateStrategyRouter(d: SwUpdateStrategyRoutesDeps): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    res.json(presentStrategy(await d.commands.current(typeFilter(req))));
  });

  router.get('/steps', async (_req, res) => {
    const steps = await d.readStore.find<StrategyStepDoc>(COLLECTIONS.strategySteps, {}, { sort: { strategyId: 1, subcloudId: 1 } });
    res.json({ 'strategy-steps': steps.map(presentStrategyStep) });
  });

  router.get('/steps/:cloud', async (req, res) => {
    const cloud = req.params.cloud;
    const step = cloud === SYSTEM_CONTROLLER ? undefined : (await d.readStore.find<StrategyStepDoc>(COLLECTIONS.strategySteps, { cloud }, { limit: 1 }))[0];
    if (!step) throw new NotFoundError(STEP_NOT_FOUND);
    res.json(presentStrategyStep(step));
  });

  router.post('/', async (req, res) => {
    const body = jsonObjectBody<StrategyInput>(req.body);
    const type = typeof body?.type === 'string' ? body.type : undefined;
    const r = await asManager('create', type, () => d.commands.create(body, commandContext(req, d.clock)));
    await d.writes.send(res, r.position, present(r.state));
  });

  router.post('/actions', async (req, res) => {
    const body = jsonObjectBody<{ action?: unknown }>(req.body);
    if (!body) throw new ValidationError('Body required');
    const action = body.action;
    if (!action) throw new ValidationError('action required', 'action');
    if (action !== 'apply' && action !== 'abort') throw new ValidationError('action invalid: it must be apply or abort', 'action');
    const type = typeFilter(req);
    const ctx = commandContext(req, d.clock);
    const r = await asManager(action, type, () => (action === 'apply' ? d.commands.apply(type, ctx) : d.commands.abort(type, ctx)));
    await d.writes.send(res, r.position, present(r.state));
  });

  router.delete('/', async (req, res) => {
    const type = typeFilter(req);
    const r = await asManager('delete', type, () => d.commands.remove(type, commandContext(req, d.clock)));
    // dcmanager answers with the strategy as it stood when it began deleting (its last state: `deleting`).
    await d.writes.send(res, r.position, present(r.state));
  });

  return router;
}
