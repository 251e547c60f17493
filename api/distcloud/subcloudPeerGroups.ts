// /v1.0/subcloud-peer-groups: dcmanager-compatible routes, writes through commands, reads from the read models.
import { Router } from 'express';
import { findByRef } from '../../adapters/readstore/byRef.js';
import type { ReadStore } from '../../adapters/readstore/port.js';
import type { PeerPropagation } from '../../commands/distcloud/peerPropagation.js';
import type { SubcloudPeerGroupCommands } from '../../commands/distcloud/subcloudPeerGroups.js';
import type { Clock } from '../../domain/core/clock.js';
import { ManagerError, NotFoundError, ValidationError } from '../../domain/core/errors.js';
import { SYSTEM_PEER_NOT_FOUND } from '../../domain/distcloud/systemPeer.js';
import type { SystemPeerDoc } from '../../projections/distcloud/systemPeers.js';
import type { PeerGroupAuditor, RemotePeerGroup } from '../../workflows/peerGroupAudit.js';
import { COLLECTIONS } from '../../domain/distcloud/collections.js';
import { peerGroupPushNeeded, peerGroupPushVerdict } from '../../domain/distcloud/peerPropagation.js';
import { DEPLOY_STATUS as D } from '../../domain/distcloud/subcloud.js';
import { PEER_GROUP_NOT_FOUND, type PeerGroupInput } from '../../domain/distcloud/subcloudPeerGroup.js';
import type { SubcloudPeerGroupDoc } from '../../projections/distcloud/subcloudPeerGroups.js';
import type { SubcloudDoc } from '../../projections/distcloud/subclouds.js';
import { commandContext, etag, ifMatchRevision } from '../http/context.js';
import { fromAnotherDc } from '../http/peer.js';
import { jsonObjectBody } from '../http/validation.js';
import type { WriteResponder } from '../http/writes.js';
import { presentSubcloudDbDict, presentSubcloudPeerGroup } from './presenters.js';

export interface SubcloudPeerGroupRoutesDeps {
  commands: SubcloudPeerGroupCommands;
  readStore: ReadStore;
  clock: Clock;
  writes: WriteResponder;
  /** Pushes a rename / state / rehoming limit change to the associated peers (absent: nothing is pushed). */
  propagation?: Pick<PeerPropagation, 'pushPeerGroupUpdate'>;
  /** The peer group audit PATCH /{ref}/audit runs (absent: the route answers 500). */
  auditor?: PeerGroupAuditor;
}

/** The keys a peer's /audit request must carry (spec §1.4). */
const AUDIT_KEYS = ['peer_uuid', 'peer_group_name', 'group_priority', 'group_state', 'system_leader_id', 'system_leader_name', 'migration_status'] as const;

/** dcmanager's subcloud_peer_group_get_by_ref: digits are an id, anything else the name. */
export async function findPeerGroup(readStore: ReadStore, ref: string): Promise<SubcloudPeerGroupDoc> {
  const doc = await findByRef<SubcloudPeerGroupDoc>(readStore, COLLECTIONS.subcloudPeerGroups, ref, { peerGroupName: ref });
  if (!doc) throw new NotFoundError(PEER_GROUP_NOT_FOUND);
  return doc;
}

export const peerGroupMembers = (readStore: ReadStore, groupId: number) =>
  readStore.find<SubcloudDoc>(COLLECTIONS.subclouds, { peerGroupId: groupId }, { sort: { id: 1 } });

/** GET /{ref}/status: how far the group's subclouds are in a migration. */
export function peerGroupStatus(group: { id: number; peerGroupName: string }, members: SubcloudDoc[]) {
  const count = (...statuses: string[]) => members.filter((s) => statuses.includes(s.deployStatus)).length;
  const managed = members.filter((s) => s.managementState === 'managed').length;
  return {
    peer_group_id: group.id,
    peer_group_name: group.peerGroupName,
    total_subclouds: members.length,
    complete: count(D.done),
    waiting_for_migrate: count(D.secondary),
    rehoming: count(D.rehoming),
    rehome_failed: count(D.rehomeFailed, D.rehomePrepFailed),
    managed,
    unmanaged: members.length - managed,
  };
}

export function subcloudPeerGroupsRouter(d: SubcloudPeerGroupRoutesDeps): Router {
  const router = Router();

  router.get('/', async (_req, res) => {
    const docs = await d.readStore.find<SubcloudPeerGroupDoc>(COLLECTIONS.subcloudPeerGroups, {}, { sort: { id: 1 } });
    res.json({ subcloud_peer_groups: docs.map(presentSubcloudPeerGroup) });
  });

  router.get('/:ref', async (req, res) => {
    const doc = await findPeerGroup(d.readStore, req.params.ref);
    res.setHeader('ETag', etag(BigInt(doc.revision)));
    res.json(presentSubcloudPeerGroup(doc));
  });

  router.get('/:ref/:verb', async (req, res) => {
    const doc = await findPeerGroup(d.readStore, req.params.ref);
    const verb = req.params.verb;
    if (verb !== 'subclouds' && verb !== 'status') throw new ValidationError('Invalid request');
    const members = await peerGroupMembers(d.readStore, doc.id);
    res.json(verb === 'subclouds' ? { subclouds: members.map(presentSubcloudDbDict) } : peerGroupStatus(doc, members));
  });

  router.post('/', async (req, res) => {
    const input = jsonObjectBody<PeerGroupInput>(req.body);
    const result = await d.commands.add(input, commandContext(req, d.clock));
    if (result.state.status !== 'active') throw new Error('peer group add left no group');
    res.setHeader('ETag', etag(result.revision as bigint));
    await d.writes.send(res, result.position, presentSubcloudPeerGroup(result.state));
  });

  router.patch('/:ref', async (req, res) => {
    const ctx = commandContext(req, d.clock);
    const ifMatch = ifMatchRevision(req);
    const doc = await findPeerGroup(d.readStore, req.params.ref);
    // The command refuses an empty body first (`Body required`), after this lookup, as dcmanager does.
    const fromPeer = fromAnotherDc(req);
    const result = await d.commands.update(doc, jsonObjectBody<PeerGroupInput>(req.body), ctx, fromPeer, ifMatch);
    if (result.state.status !== 'active') throw new NotFoundError(PEER_GROUP_NOT_FOUND);
    if (d.propagation && peerGroupPushNeeded(doc, result.state, fromPeer)) {
      // As dcmanager, the change is recorded before it is pushed: a 403 (no peer took it) does not undo it here.
      const pushed = await d.propagation.pushPeerGroupUpdate(doc.peerGroupName, result.state);
      peerGroupPushVerdict(pushed.succeeded, pushed.failed);
    }
    res.setHeader('ETag', etag(result.revision as bigint));
    await d.writes.send(res, result.position, presentSubcloudPeerGroup(result.state));
  });

  // Batch migration to this site (spec §1.4, §3.7): checked and recorded here, carried out by workflows/peerGroupMigration.ts.
  router.patch('/:ref/migrate', async (req, res) => {
    const ctx = commandContext(req, d.clock);
    const doc = await findPeerGroup(d.readStore, req.params.ref);
    const result = await d.commands.startMigration(doc, jsonObjectBody<{ sysadmin_password?: unknown }>(req.body), ctx);
    await d.writes.send(res, result.position, { subclouds: result.subclouds.map(presentSubcloudDbDict) });
  });

  // A peer site asks this site to audit its copy of a group (the end of the peer's batch migration, spec §3.4).
  router.patch('/:ref/audit', async (req, res) => {
    const doc = await findPeerGroup(d.readStore, req.params.ref);
    const body = jsonObjectBody<Record<string, unknown>>(req.body) ?? {};
    for (const key of AUDIT_KEYS) {
      if (!(key in body)) throw new ValidationError(`Unable to audit peer group ${doc.peerGroupName}, missing ${key}`, key);
    }
    const [peer] = await d.readStore.find<SystemPeerDoc>(COLLECTIONS.systemPeers, { peerUuid: String(body.peer_uuid) });
    if (!peer) throw new NotFoundError(SYSTEM_PEER_NOT_FOUND);
    try {
      if (!d.auditor) throw new Error('no peer group auditor');
      const outcome = await d.auditor.audit(peer, body as unknown as RemotePeerGroup, doc);
      res.json({ message: outcome.message });
    } catch (err) {
      req.log?.error({ err }, 'peer group audit failed');
      throw new ManagerError(`Unable to audit peer group ${doc.peerGroupName}`);
    }
  });

  router.delete('/:ref', async (req, res) => {
    const ctx = commandContext(req, d.clock);
    const ifMatch = ifMatchRevision(req);
    const doc = await findPeerGroup(d.readStore, req.params.ref);
    const result = await d.commands.remove(doc.id, ctx, ifMatch);
    await d.writes.send(res, result.position, null);
  });

  return router;
}
