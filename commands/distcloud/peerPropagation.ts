// What the API does on the peer sites within a request (dcmanager's synchronous RPCs to system_peer_manager, spec
// §3.6): push a peer group's rename / state / rehoming limit to every associated peer (update_subcloud_peer_group),
// and clean the peer's side up before a primary association is deleted here (delete_peer_group_association).
// domain/distcloud/peerPropagation.ts holds the rules and messages; this file makes the calls in the spec's order.
import type { Logger } from 'pino';
import type { ReadStore } from '../../adapters/readstore/port.js';
import { peerDcmanager, PeerRequestError, type PeerDcmanager } from '../../adapters/peer/peerDcmanager.js';
import type { PeerDirectory } from '../../adapters/peer/peerDirectory.js';
import { COLLECTIONS } from '../../domain/distcloud/collections.js';
import type { LocalSystem } from '../../domain/distcloud/localSystem.js';
import {
  AssociationDeleteRefused,
  MAX_PARALLEL_SUBCLOUD_DELETE,
  peerCleanupPlan,
  peerCopyDeletable,
  peerDeletionFailedMessage,
  peerGroupPushBody,
  peerGroupStillAssociated,
} from '../../domain/distcloud/peerPropagation.js';
import type { PeerGroupAssociationDoc } from '../../projections/distcloud/peerGroupAssociations.js';
import type { SubcloudDoc } from '../../projections/distcloud/subclouds.js';
import type { SubcloudPeerGroupDoc } from '../../projections/distcloud/subcloudPeerGroups.js';
import type { SystemPeerDoc } from '../../projections/distcloud/systemPeers.js';
import type { CommandContext } from '../core/context.js';
import type { WriteResult } from '../core/decideOn.js';
import type { PeerGroupAssociationCommands } from './peerGroupAssociations.js';
import type { PeerGroupAssociationState } from '../../domain/distcloud/peerGroupAssociation.js';

export interface PeerPropagationDeps {
  readStore: ReadStore;
  directory: PeerDirectory;
  associations: Pick<PeerGroupAssociationCommands, 'remove' | 'setSyncStatus'>;
  localSystem: () => LocalSystem;
  logger: Logger;
  /** Per call on the peer (default: the session's, dcmanager's 600 s). */
  requestTimeoutMs?: number;
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Runs fn on each item, at most `limit` at once. */
async function inPool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export function peerPropagation(deps: PeerPropagationDeps) {
  const { readStore } = deps;
  const logger = deps.logger.child({ component: 'peer-propagation' });
  const clientFor = (peer: SystemPeerDoc): PeerDcmanager =>
    peerDcmanager(deps.directory.sessionFor(peer), deps.requestTimeoutMs !== undefined ? { timeoutMs: deps.requestTimeoutMs } : {});

  /**
   * update_subcloud_peer_group: PATCH /subcloud-peer-groups/{old name} on the peer of each association of the group
   * that is `available`; an unavailable peer counts as failed. Returns how many peers took it and how many did not.
   */
  async function pushPeerGroupUpdate(oldName: string, group: { id: number; peerGroupName: string; groupState: string; maxSubcloudRehoming: number }) {
    const associations = await readStore.find<PeerGroupAssociationDoc>(COLLECTIONS.peerGroupAssociations, { peerGroupId: group.id }, { sort: { id: 1 } });
    const body = peerGroupPushBody(group);
    const outcomes = await Promise.all(
      associations.map(async (a) => {
        const peer = await readStore.get<SystemPeerDoc>(COLLECTIONS.systemPeers, String(a.systemPeerId));
        if (!peer || peer.availabilityState !== 'available') {
          logger.warn({ peerGroup: oldName, peer: peer?.peerName }, 'peer site not available: the peer group update is not synced to it');
          return false;
        }
        try {
          await clientFor(peer).updatePeerGroup(oldName, body);
          return true;
        } catch (err) {
          logger.warn({ peerGroup: oldName, peer: peer.peerName, err: errorText(err) }, 'the peer group update could not be synced to the peer site');
          return false;
        }
      }),
    );
    const succeeded = outcomes.filter(Boolean).length;
    return { succeeded, failed: outcomes.length - succeeded };
  }

  /**
   * delete_peer_group_association for a primary association: the peer's side is cleaned up first, then the local
   * association is deleted. A refusal (AssociationDeleteRefused, 422) leaves the local association, `failed` where
   * dcmanager marks it so; any other error (the peer unreachable, an unexpected answer) propagates and leaves it as
   * it was.
   */
  async function deletePrimaryAssociation(association: PeerGroupAssociationDoc, ctx: CommandContext): Promise<WriteResult<PeerGroupAssociationState>> {
    const removeLocal = () => deps.associations.remove(association.id, ctx);
    const peer = await readStore.get<SystemPeerDoc>(COLLECTIONS.systemPeers, String(association.systemPeerId));
    const group = await readStore.get<SubcloudPeerGroupDoc>(COLLECTIONS.subcloudPeerGroups, String(association.peerGroupId));
    if (!peer || !group) return removeLocal();
    const log = logger.child({ associationId: association.id, peer: peer.peerName, peerGroup: group.peerGroupName });
    const client = clientFor(peer);

    const peerUuid = await client.systemUuid();
    const peerGroup = peerUuid?.toLowerCase() === peer.peerUuid.toLowerCase() ? await client.peerGroup(group.peerGroupName) : undefined;
    const plan = peerCleanupPlan(peer.peerUuid, peerUuid, peerGroup);
    if (plan.kind === 'localOnly') {
      log.info({ reason: plan.reason }, 'nothing of this association on the peer site: deleting it here only');
      return removeLocal();
    }

    // The copies of this group's subclouds on the peer.
    const members = await readStore.find<SubcloudDoc>(COLLECTIONS.subclouds, { peerGroupId: group.id }, { sort: { id: 1 } });
    const failed: string[] = [];
    await inPool(members, MAX_PARALLEL_SUBCLOUD_DELETE, async (m) => {
      try {
        const copy = await client.subcloudDetail(m.regionName);
        if (!copy) return;
        // A copy that is no longer waiting for a migration (say, managed there) is not the peer's to lose.
        if (!peerCopyDeletable(copy['deploy-status'])) throw new Error(`the peer's copy is ${String(copy['deploy-status'])}`);
        await client.deleteSubcloud(String(copy.name));
      } catch (err) {
        log.warn({ subcloud: m.name, err: errorText(err) }, "the subcloud's copy on the peer site could not be deleted");
        failed.push(m.name);
      }
    });
    if (failed.length > 0) {
      const names = members.map((m) => m.name).filter((n) => failed.includes(n));
      await refuse(association.id, peerDeletionFailedMessage(names, group.peerGroupName), ctx);
    }

    const back = await client.systemPeer(deps.localSystem().uuid);
    if (back) {
      const peerAssociation = await client.findAssociation(peerGroup!.id, back.id);
      if (peerAssociation) await client.deleteAssociation(peerAssociation.id);
    }
    try {
      await client.deletePeerGroup(group.peerGroupName);
    } catch (err) {
      // Another association (of another site) still holds the peer's group.
      if (err instanceof PeerRequestError && peerGroupStillAssociated(err.status, err.detail)) await refuse(association.id, err.detail, ctx);
      throw err;
    }
    return removeLocal();
  }

  /** The local association failed with the message, and the request refused with it. */
  async function refuse(id: number, message: string, ctx: CommandContext): Promise<never> {
    await deps.associations.setSyncStatus(id, 'failed', message, ctx);
    throw new AssociationDeleteRefused(message);
  }

  return { pushPeerGroupUpdate, deletePrimaryAssociation };
}

export type PeerPropagation = ReturnType<typeof peerPropagation>;
