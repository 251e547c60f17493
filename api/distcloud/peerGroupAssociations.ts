// /v1.0/peer-group-associations: dcmanager-compatible routes, writes through commands, reads from the read models.
import { Router, type Request } from 'express';
import type { ReadStore } from '../../adapters/readstore/port.js';
import type { PeerGroupAssociationCommands } from '../../commands/distcloud/peerGroupAssociations.js';
import type { PeerPropagation } from '../../commands/distcloud/peerPropagation.js';
import type { Clock } from '../../domain/core/clock.js';
import { DomainError, NotFoundError, ValidationError } from '../../domain/core/errors.js';
import { COLLECTIONS } from '../../domain/distcloud/collections.js';
import { ASSOCIATION_NOT_FOUND, type AssociationInput } from '../../domain/distcloud/peerGroupAssociation.js';
import { ASSOCIATION_DELETE_FAILED } from '../../domain/distcloud/peerPropagation.js';
import type { PeerGroupAssociationDoc } from '../../projections/distcloud/peerGroupAssociations.js';
import type { SubcloudPeerGroupDoc } from '../../projections/distcloud/subcloudPeerGroups.js';
import { commandContext } from '../http/context.js';
import { HttpError } from '../http/errors.js';
import { jsonObjectBody } from '../http/validation.js';
import type { WriteResponder } from '../http/writes.js';
import { presentPeerGroupAssociation } from './presenters.js';

export interface PeerGroupAssociationRoutesDeps {
  commands: PeerGroupAssociationCommands;
  readStore: ReadStore;
  clock: Clock;
  writes: WriteResponder;
  /** Cleans the peer's side up before a primary association is deleted (absent: only the local one is deleted). */
  propagation?: Pick<PeerPropagation, 'deletePrimaryAssociation'>;
}

export function peerGroupAssociationsRouter(d: PeerGroupAssociationRoutesDeps): Router {
  const router = Router();

  /** Associations are referred to by integer id only. */
  async function findAssociation(req: Request): Promise<PeerGroupAssociationDoc> {
    const ref = String(req.params.id);
    if (!/^\d+$/.test(ref)) throw new ValidationError('Peer Group Association ID must be an integer');
    const doc = await d.readStore.get<PeerGroupAssociationDoc>(COLLECTIONS.peerGroupAssociations, String(Number(ref)));
    if (!doc) throw new NotFoundError(ASSOCIATION_NOT_FOUND);
    return doc;
  }

  router.get('/', async (_req, res) => {
    const docs = await d.readStore.find<PeerGroupAssociationDoc>(COLLECTIONS.peerGroupAssociations, {}, { sort: { id: 1 } });
    res.json({ peer_group_associations: docs.map((a) => presentPeerGroupAssociation(a, false)) });
  });

  router.get('/:id', async (req, res) => {
    res.json(presentPeerGroupAssociation(await findAssociation(req)));
  });

  router.post('/', async (req, res) => {
    const input = jsonObjectBody<AssociationInput>(req.body);
    const result = await d.commands.add(input, commandContext(req, d.clock));
    if (result.state.status !== 'active') throw new Error('association add left no association');
    await d.writes.send(res, result.position, presentPeerGroupAssociation(result.state));
  });

  router.patch('/:id/sync', async (req, res) => {
    const doc = await findAssociation(req);
    const group = await d.readStore.get<SubcloudPeerGroupDoc>(COLLECTIONS.subcloudPeerGroups, String(doc.peerGroupId));
    const result = await d.commands.requestSync(doc, group ?? undefined, commandContext(req, d.clock));
    if (result.state.status !== 'active') throw new NotFoundError(ASSOCIATION_NOT_FOUND);
    await d.writes.send(res, result.position, presentPeerGroupAssociation(result.state));
  });

  router.patch('/:id', async (req, res) => {
    const doc = await findAssociation(req);
    const input = jsonObjectBody<AssociationInput>(req.body);
    const result = await d.commands.update(doc, input, commandContext(req, d.clock));
    if (result.state.status !== 'active') throw new NotFoundError(ASSOCIATION_NOT_FOUND);
    await d.writes.send(res, result.position, presentPeerGroupAssociation(result.state));
  });

  router.delete('/:id', async (req, res) => {
    const doc = await findAssociation(req);
    const ctx = commandContext(req, d.clock);
    if (doc.associationType !== 'primary' || !d.propagation) {
      const result = await d.commands.remove(doc.id, ctx);
      await d.writes.send(res, result.position, null);
      return;
    }
    try {
      const result = await d.propagation.deletePrimaryAssociation(doc, ctx);
      await d.writes.send(res, result.position, null);
    } catch (err) {
      // Refusals (422) carry their reason; anything else (the peer unreachable ...) is dcmanager's fixed 500, and the
      // association stays as it was.
      if (err instanceof DomainError) throw err;
      req.log?.error({ err, associationId: doc.id }, 'primary association delete failed');
      throw new HttpError(500, ASSOCIATION_DELETE_FAILED);
    }
  });

  return router;
}
