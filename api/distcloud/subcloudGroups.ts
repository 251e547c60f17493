// /v1.0/subcloud-groups: dcmanager-compatible routes, writes through commands, reads from the read model.
import { Router, type Request } from 'express';
import { z } from 'zod';
import { findByRef } from '../../adapters/readstore/byRef.js';
import type { ReadStore } from '../../adapters/readstore/port.js';
import type { SubcloudGroupCommands } from '../../commands/distcloud/subcloudGroups.js';
import type { Clock } from '../../domain/core/clock.js';
import { NotFoundError } from '../../domain/core/errors.js';
import { requireBody } from '../../domain/core/body.js';
import { COLLECTIONS } from '../../domain/distcloud/collections.js';
import { GROUP_NOT_FOUND, type GroupInput } from '../../domain/distcloud/subcloudGroup.js';
import type { SubcloudGroupDoc } from '../../projections/distcloud/subcloudGroups.js';
import { commandContext, etag, ifMatchRevision } from '../http/context.js';
import { parseWith } from '../http/validation.js';
import type { WriteResponder } from '../http/writes.js';
import { presentSubcloudDbDict, presentSubcloudGroup } from './presenters.js';
import type { SubcloudDoc } from '../../projections/distcloud/subclouds.js';

/** Field types are checked by the domain validators, which give dcmanager's messages; here only the shape. */
const groupBody = z
  .strictObject({
    name: z.unknown(),
    description: z.unknown(),
    update_apply_type: z.unknown(),
    max_parallel_subclouds: z.unknown(),
  })
  .partial()
  .optional();

export interface SubcloudGroupRoutesDeps {
  commands: SubcloudGroupCommands;
  readStore: ReadStore;
  clock: Clock;
  writes: WriteResponder;
}

export function subcloudGroupsRouter(d: SubcloudGroupRoutesDeps): Router {
  const router = Router();
  const collection = COLLECTIONS.subcloudGroups;

  /** A numeric ref is an id, anything else a name (case-sensitive), as dcmanager looks groups up. */
  async function findGroup(ref: string): Promise<SubcloudGroupDoc> {
    const doc = await findByRef<SubcloudGroupDoc>(d.readStore, collection, ref, { name: ref });
    if (!doc) throw new NotFoundError(GROUP_NOT_FOUND);
    return doc;
  }

  const body = (req: Request): GroupInput | undefined => parseWith(groupBody, req.body);

  router.get('/', async (_req, res) => {
    const docs = await d.readStore.find<SubcloudGroupDoc>(collection, {}, { sort: { id: 1 } });
    res.json({ subcloud_groups: docs.map(presentSubcloudGroup) });
  });

  router.get('/:ref', async (req, res) => {
    const doc = await findGroup(req.params.ref);
    res.setHeader('ETag', etag(BigInt(doc.revision)));
    res.json(presentSubcloudGroup(doc));
  });

  // dcmanager answers any second path segment (normally "subclouds") with the group's subclouds.
  router.get('/:ref/:subclouds', async (req, res) => {
    const doc = await findGroup(req.params.ref);
    const subclouds = await d.readStore.find<SubcloudDoc>(COLLECTIONS.subclouds, { groupId: doc.id }, { sort: { id: 1 } });
    res.json({ subclouds: subclouds.map(presentSubcloudDbDict) });
  });

  router.post('/', async (req, res) => {
    const input = body(req);
    const ctx = commandContext(req, d.clock);
    const result = await d.commands.add(input, ctx);
    if (result.state.status === 'absent') throw new Error('group add left no group');
    res.setHeader('ETag', etag(result.revision as bigint));
    await d.writes.send(res, result.position, presentSubcloudGroup(result.state));
  });

  router.patch('/:ref', async (req, res) => {
    const input = requireBody(body(req));
    const ctx = commandContext(req, d.clock);
    const ifMatch = ifMatchRevision(req);
    const doc = await findGroup(req.params.ref);
    const result = await d.commands.update(doc.id, input, ctx, ifMatch);
    if (result.state.status !== 'active') throw new NotFoundError(GROUP_NOT_FOUND);
    res.setHeader('ETag', etag(result.revision as bigint));
    await d.writes.send(res, result.position, presentSubcloudGroup(result.state));
  });

  router.delete('/:ref', async (req, res) => {
    const ctx = commandContext(req, d.clock);
    const ifMatch = ifMatchRevision(req);
    const doc = await findGroup(req.params.ref);
    const result = await d.commands.remove(doc.id, ctx, ifMatch);
    await d.writes.send(res, result.position, null);
  });

  return router;
}
