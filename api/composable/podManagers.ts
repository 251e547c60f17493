// /v1/pod_managers: Valence's pod manager registry (list, register, show, update, delete). The password is never
// shown: Valence's api-ref masks it as ***, and so does every answer here.
import { Router } from 'express';
import type { ReadStore } from '../../adapters/readstore/port.js';
import { POD_MANAGERS, type PodManagerCommands } from '../../commands/composable/podManagers.js';
import type { Clock } from '../../domain/core/clock.js';
import { NotFoundError } from '../../domain/core/errors.js';
import { podManagerNotFound, type PodManagerFields } from '../../domain/composable/podManager.js';
import type { PodManagerDoc } from '../../projections/composable/podManagers.js';
import { commandContext } from '../http/context.js';
import { jsonObjectBody } from '../http/validation.js';
import type { WriteResponder } from '../http/writes.js';

export interface PodManagerRoutesDeps {
  commands: PodManagerCommands;
  readStore: ReadStore;
  clock: Clock;
  writes: WriteResponder;
}

type Shown = PodManagerFields & { podmStatus: string; createdAt: string; updatedAt: string | null };

export const presentPodManager = (p: Shown) => ({
  uuid: p.uuid,
  name: p.name,
  url: p.url,
  driver: p.driver,
  authentication: [{ type: 'basic', auth_items: { username: p.username, password: '***' } }],
  status: p.podmStatus,
  description: p.description,
  location: p.location,
  created_at: p.createdAt,
  updated_at: p.updatedAt,
});

export function podManagersRouter(d: PodManagerRoutesDeps): Router {
  const router = Router();
  const find = async (uuid: string) => {
    const doc = await d.readStore.get<PodManagerDoc>(POD_MANAGERS, uuid);
    if (!doc || doc.status !== 'active') throw new NotFoundError(podManagerNotFound(uuid));
    return doc;
  };
  const shown = (state: unknown) => presentPodManager(state as Shown);

  router.get('/', async (_req, res) => {
    const docs = await d.readStore.find<PodManagerDoc>(POD_MANAGERS, {}, { sort: { createdAt: 1, name: 1 } });
    res.json(docs.map(shown));
  });
  router.post('/', async (req, res) => {
    const r = await d.commands.register(jsonObjectBody<Record<string, unknown>>(req.body) ?? {}, commandContext(req, d.clock));
    await d.writes.send(res, r.position, shown(r.state));
  });
  router.get('/:uuid', async (req, res) => {
    res.json(shown(await find(req.params.uuid)));
  });
  router.patch('/:uuid', async (req, res) => {
    await find(req.params.uuid);
    const r = await d.commands.update(req.params.uuid, jsonObjectBody<Record<string, unknown>>(req.body) ?? {}, commandContext(req, d.clock));
    await d.writes.send(res, r.position, shown(r.state));
  });
  // Valence's safe deletion also releases the pod manager's composed nodes; there are none to release yet.
  router.delete('/:uuid', async (req, res) => {
    await find(req.params.uuid);
    const r = await d.commands.remove(req.params.uuid, commandContext(req, d.clock));
    await d.writes.send(res, r.position, { request_id: req.id, code: '', detail: 'DELETED' });
  });
  return router;
}
