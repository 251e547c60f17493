// /v1.0/system-peers: dcmanager-compatible routes, writes through commands, reads from the read model.
import { Router } from 'express';
import { findByRef } from '../../adapters/readstore/byRef.js';
import type { ReadStore } from '../../adapters/readstore/port.js';
import type { SystemPeerCommands } from '../../commands/distcloud/systemPeers.js';
import type { Clock } from '../../domain/core/clock.js';
import { NotFoundError, ValidationError } from '../../domain/core/errors.js';
import { COLLECTIONS } from '../../domain/distcloud/collections.js';
import { canonicalUuid, SYSTEM_PEER_NOT_FOUND, type SystemPeerInput } from '../../domain/distcloud/systemPeer.js';
import type { PeerGroupAssociationDoc } from '../../projections/distcloud/peerGroupAssociations.js';
import type { SubcloudPeerGroupDoc } from '../../projections/distcloud/subcloudPeerGroups.js';
import type { SystemPeerDoc } from '../../projections/distcloud/systemPeers.js';
import { commandContext, etag, ifMatchRevision } from '../http/context.js';
import { jsonObjectBody } from '../http/validation.js';
import { requireBody } from '../../domain/core/body.js';
import type { WriteResponder } from '../http/writes.js';
import { presentSubcloudPeerGroup, presentSystemPeer } from './presenters.js';

export interface SystemPeerRoutesDeps {
  commands: SystemPeerCommands;
  readStore: ReadStore;
  clock: Clock;
  writes: WriteResponder;
}

/** dcmanager's system_peer_get_by_ref: digits are an id, a UUID is the peer's UUID, anything else its name. */
export async function findSystemPeer(readStore: ReadStore, ref: string): Promise<SystemPeerDoc> {
  const uuid = canonicalUuid(ref);
  const doc = await findByRef<SystemPeerDoc>(readStore, COLLECTIONS.systemPeers, ref, uuid ? { peerUuid: uuid } : { peerName: ref });
  if (!doc) throw new NotFoundError(SYSTEM_PEER_NOT_FOUND);
  return doc;
}

export function systemPeersRouter(d: SystemPeerRoutesDeps): Router {
  const router = Router();

  router.get('/', async (_req, res) => {
    const docs = await d.readStore.find<SystemPeerDoc>(COLLECTIONS.systemPeers, {}, { sort: { id: 1 } });
    res.json({ system_peers: docs.map(presentSystemPeer) });
  });

  router.get('/:ref', async (req, res) => {
    const doc = await findSystemPeer(d.readStore, req.params.ref);
    res.setHeader('ETag', etag(BigInt(doc.revision)));
    res.json(presentSystemPeer(doc));
  });

  // The groups this peer protects, through their associations (dcmanager answers a bare list here).
  router.get('/:ref/subcloud-peer-groups', async (req, res) => {
    const doc = await findSystemPeer(d.readStore, req.params.ref);
    const associations = await d.readStore.find<PeerGroupAssociationDoc>(COLLECTIONS.peerGroupAssociations, { systemPeerId: doc.id });
    const ids = associations.map((a) => a.peerGroupId);
    const groups = ids.length
      ? await d.readStore.find<SubcloudPeerGroupDoc>(COLLECTIONS.subcloudPeerGroups, { id: { $in: ids } }, { sort: { id: 1 } })
      : [];
    res.json({ subcloud_peer_groups: groups.map(presentSubcloudPeerGroup) });
  });

  router.post('/', async (req, res) => {
    const input = jsonObjectBody<SystemPeerInput>(req.body);
    const result = await d.commands.add(input, commandContext(req, d.clock));
    if (result.state.status !== 'active') throw new Error('system peer add left no peer');
    res.setHeader('ETag', etag(result.revision as bigint));
    await d.writes.send(res, result.position, presentSystemPeer(result.state));
  });

  router.patch('/', () => {
    throw new ValidationError('System Peer UUID or ID required');
  });

  router.patch('/:ref', async (req, res) => {
    const input = requireBody(jsonObjectBody<SystemPeerInput>(req.body));
    const ctx = commandContext(req, d.clock);
    const ifMatch = ifMatchRevision(req);
    const doc = await findSystemPeer(d.readStore, req.params.ref);
    const result = await d.commands.update(doc.id, input, ctx, ifMatch);
    if (result.state.status !== 'active') throw new NotFoundError(SYSTEM_PEER_NOT_FOUND);
    res.setHeader('ETag', etag(result.revision as bigint));
    await d.writes.send(res, result.position, presentSystemPeer(result.state));
  });

  router.delete('/:ref', async (req, res) => {
    const ctx = commandContext(req, d.clock);
    const ifMatch = ifMatchRevision(req);
    const doc = await findSystemPeer(d.readStore, req.params.ref);
    const result = await d.commands.remove(doc.id, ctx, ifMatch);
    await d.writes.send(res, result.position, null);
  });

  return router;
}
