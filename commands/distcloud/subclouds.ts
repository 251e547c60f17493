// Subcloud commands: which streams each one reads and appends to, and the facts from read models it passes to the
// pure decider (the other subclouds' ranges a new one could clash with, which groups exist, which group a reference
// names).
import { randomUUID } from 'node:crypto';
import type { EventStore } from '../../adapters/eventstore/port.js';
import type { Doc, ReadStore } from '../../adapters/readstore/port.js';
import type { Logger } from 'pino';
import type { SecretBox } from '../../adapters/secrets/secretBox.js';
import type { SubcloudAgentClient } from '../../adapters/subcloudAgent/client.js';
import { ConflictError, ValidationError } from '../../domain/core/errors.js';
import type { UpcasterRegistry } from '../../domain/core/upcasting.js';
import { COLLECTIONS } from '../../domain/distcloud/collections.js';
import type { LocalSystem } from '../../domain/distcloud/localSystem.js';
import type { PeerGroupContext, PeerGroupFacts, PeerGroupOutcome } from '../../domain/distcloud/subcloudPeerGroupRules.js';
import type { PeerGroupAssociationDoc } from '../../projections/distcloud/peerGroupAssociations.js';
import type { SubcloudPeerGroupDoc } from '../../projections/distcloud/subcloudPeerGroups.js';
import type { SubcloudDoc } from '../../projections/distcloud/subclouds.js';
import type { SystemPeerDoc } from '../../projections/distcloud/systemPeers.js';
import type { PeerGroupAssociationCommands } from './peerGroupAssociations.js';
import {
  peerGroupOutcome,
  type ActiveSubcloud,
  subcloudDecider,
  subcloudExistsMessage,
  subcloudStream,
  type SubcloudChanges,
  type SubcloudCommand,
  type SubcloudSecrets,
  type SubcloudState,
} from '../../domain/distcloud/subcloud.js';
import { networkProbes, type BootstrapPayload, type SubcloudConfigContext } from '../../domain/distcloud/bootstrapValues.js';
import { validateAddRequest, type AddSubcloudRequest } from '../../domain/distcloud/subcloudValidation.js';
import { networkClashFilter, type SubcloudNetworkDoc } from '../../projections/distcloud/subcloudNetworks.js';
import { findByRef } from '../../adapters/readstore/byRef.js';
import { aggregateStream } from '../core/aggregateStream.js';
import { deterministicUuid, type CommandContext } from '../core/context.js';
import type { WriteResult } from '../core/decideOn.js';
import type { Handle } from '../core/handler.js';
import { latestPosition, withRename } from '../core/renaming.js';
import type { Uniqueness } from '../core/uniqueness.js';

export const SUBCLOUD_NAME_SCOPE = 'subcloudName';
export const SUBCLOUD_ID_SCOPE = 'subcloud';

/** dcmanager's info_message when a subcloud change put associations out of sync. */
export const outOfSyncMessage = (associationIds: number[]) =>
  'The operation has caused the SPG to be out-of-sync. Please run peer-group-association sync command to push the subcloud peer group changes to the peer site:\n' +
  associationIds.map((id) => `$ dcmanager peer-group-association sync ${id}\n`).join('');

export interface SubcloudWriteResult extends WriteResult<SubcloudState> {
  /** dcmanager's `info_message`: the change put peer group associations out of sync. */
  infoMessage?: string;
}

export interface SubcloudCommandDeps {
  handle: Handle;
  uniqueness: Uniqueness;
  eventStore: EventStore;
  readStore: ReadStore;
  upcasters: UpcasterRegistry;
  softwareVersion: string;
  systemControllerManagement: { subnet: string; startIp: string; endIp: string };
  /** Seals the request's secrets before they go into an event. */
  secrets: Pick<SecretBox, 'seal'>;
  /** Peer groups: this site's identity (who leads a group) and the associations a change puts out of sync. */
  geo?: {
    localSystem: () => LocalSystem;
    associations: Pick<PeerGroupAssociationCommands, 'markGroupSyncStatus'>;
  };
  /** Reads a migrating subcloud's region from the subcloud itself. */
  agent?: Pick<SubcloudAgentClient, 'system'>;
  logger?: Logger;
}

/** What PATCH takes before the references in it are resolved: `group_id` is an id or a name. */
export type SubcloudPatch = Omit<SubcloudChanges, 'groupId'> & { groupRef?: string };

export function subcloudCommands(deps: SubcloudCommandDeps) {
  const { handle, uniqueness, readStore } = deps;

  const load = (id: number) => aggregateStream(deps.eventStore, deps.upcasters, subcloudStream(id), subcloudDecider);

  const decideSubcloud = (id: number, command: SubcloudCommand, context: CommandContext, ifMatch?: bigint) =>
    handle({ streamId: subcloudStream(id), decider: subcloudDecider, command, context, ...(ifMatch !== undefined ? { ifMatch } : {}) });

  /** A name reservation stays in use while its holder subcloud exists under that name. */
  const usesName = (name: string) => async (holder: string) => {
    const { state } = await load(Number(holder));
    return state.status === 'active' && state.name === name;
  };

  /** The region of a new subcloud: 32 hex characters, the same for a repeat of one Idempotency-Key. */
  const newRegion = (ctx: CommandContext) =>
    (ctx.idempotency ? deterministicUuid(ctx.idempotency.scope, ctx.idempotency.key, 'region') : randomUUID()).replace(/-/g, '');

  /**
   * The facts the network rules need: only the subclouds this payload's ranges and OAM subnet could clash with,
   * leaving out one named `name` (the subcloud itself, when this repeats an add that went through).
   */
  async function configContext(payload: BootstrapPayload, name: string): Promise<SubcloudConfigContext> {
    const clash = networkClashFilter(networkProbes(payload));
    const [nearby, groups] = await Promise.all([
      clash ? readStore.find<SubcloudNetworkDoc>(COLLECTIONS.subcloudNetworks, clash, { sort: { id: 1 } }) : [],
      readStore.find<Doc & { id: number }>(COLLECTIONS.subcloudGroups),
    ]);
    return {
      existingSubclouds: nearby.filter((s) => s.name !== name).map((s) => ({ id: s.id, name: s.name, managementSubnet: s.managementSubnet, managementStartIp: s.managementStartIp, managementEndIp: s.managementEndIp })),
      systemControllerManagement: deps.systemControllerManagement,
      existingGroupIds: groups.map((g) => g.id),
    };
  }

  /**
   * Step 9: a new subcloud's region. A peer site names its secondary subcloud's; a subcloud that migrates here is
   * already deployed and knows its own, which its agent tells; any other gets a new one.
   */
  async function regionFor(payload: BootstrapPayload, ctx: CommandContext): Promise<string> {
    if (payload.secondary === 'true' && typeof payload.region_name === 'string' && payload.region_name) return payload.region_name;
    if (payload.migrate !== 'true') return newRegion(ctx);
    const address = payload['bootstrap-address'];
    const unable = () =>
      new ValidationError(
        `Unable to retrieve subcloud region while trying to connect to the subcloud ${String(payload.name)} with bootstrap address ${String(address)}`,
        'bootstrap-address',
      );
    if (typeof address !== 'string' || !address || !deps.agent) throw unable();
    try {
      const region = (await deps.agent.system(address, { retries: 1 })).region_name;
      if (!region) throw unable();
      return region;
    } catch (error) {
      if (error instanceof ValidationError) throw error;
      deps.logger?.warn({ err: error, subcloud: payload.name, address }, 'could not read the region of a migrating subcloud');
      throw unable();
    }
  }

  /** The passwords (base64 as given) and the deploy config, sealed; only what the request holds. */
  function sealSecrets(payload: BootstrapPayload, request: AddSubcloudRequest): SubcloudSecrets {
    const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
    const sysadmin = text(payload.sysadmin_password);
    const bmc = text(payload.bmc_password);
    return {
      ...(sysadmin ? { sysadminPassword: deps.secrets.seal(sysadmin) } : {}),
      ...(bmc ? { bmcPassword: deps.secrets.seal(bmc) } : {}),
      ...(request.deployConfig !== undefined ? { deployConfig: deps.secrets.seal(request.deployConfig) } : {}),
    };
  }

  async function add(request: AddSubcloudRequest, ctx: CommandContext, fromAnotherDc = false): Promise<SubcloudWriteResult> {
    // dcmanager's order: the request's own rules (400s), then the name (409), the region, then the network rules.
    const payload = validateAddRequest(request);
    const name = String(payload.name);
    const exists = new ConflictError(subcloudExistsMessage(name));
    if (!ctx.idempotency && (await readStore.count(COLLECTIONS.subclouds, { name })) > 0) throw exists;
    const draft = {
      type: 'AddSubcloud' as const,
      id: 0,
      region: await regionFor(payload, ctx),
      softwareVersion: deps.softwareVersion,
      request,
      context: await configContext(payload, name),
      fromAnotherDc,
      at: ctx.now.toISOString(),
    };
    // Every rule before anything is written, so a refused add appends nothing (no id taken, no name reserved).
    subcloudDecider.decide(draft, subcloudDecider.initialState());
    const id = await uniqueness.allocateId(SUBCLOUD_ID_SCOPE, 1, ctx);
    const reservation = await uniqueness.reserve({ scope: SUBCLOUD_NAME_SCOPE, value: name, holder: String(id), context: ctx, stillHeld: usesName(name) });
    if (!reservation.reserved) throw exists;
    try {
      const r = await decideSubcloud(id, { ...draft, id, secrets: sealSecrets(payload, request) }, ctx);
      return { state: r.state, revision: r.revision, position: latestPosition(reservation.position, r.position) };
    } catch (error) {
      // Refused after all (another add took the range meanwhile): the name is free again; the id stays used, as a
      // database sequence's would.
      await uniqueness.release(SUBCLOUD_NAME_SCOPE, name, String(id), ctx).catch(() => undefined);
      throw error;
    }
  }

  /** The group a `group_id` part names (id or name); null when none does (the decider answers `Invalid group`). */
  async function resolveGroup(ref: string): Promise<number | null> {
    const trimmed = ref.trim();
    const group = await findByRef<Doc & { id: number }>(readStore, COLLECTIONS.subcloudGroups, trimmed, { name: trimmed });
    return group ? group.id : null;
  }

  /** The peer group `ref` (an id or a name) names, as the rules see it; undefined when there is no such group. */
  async function peerGroupFacts(ref: string): Promise<PeerGroupFacts | undefined> {
    const g = await findByRef<SubcloudPeerGroupDoc>(readStore, COLLECTIONS.subcloudPeerGroups, ref, { peerGroupName: ref });
    if (!g) return undefined;
    return { id: g.id, groupPriority: g.groupPriority, leaderIsLocal: g.systemLeaderId === deps.geo?.localSystem().uuid };
  }

  /** What the peer-group rules need: the subcloud's group (and its peer's availability) and the group `peer_group` names. */
  async function peerGroupContext(peerGroupId: number | null, ref: string | undefined): Promise<PeerGroupContext> {
    const context: PeerGroupContext = {};
    const current = peerGroupId === null ? undefined : await peerGroupFacts(String(peerGroupId));
    if (current) {
      // dcmanager looks at the group's last association; a group without one counts its peer as available.
      const associations = await readStore.find<PeerGroupAssociationDoc>(COLLECTIONS.peerGroupAssociations, { peerGroupId: current.id }, { sort: { id: -1 }, limit: 1 });
      const peer = associations[0] ? await readStore.get<SystemPeerDoc>(COLLECTIONS.systemPeers, String(associations[0].systemPeerId)) : undefined;
      context.current = { ...current, peerAvailable: !associations[0] || peer?.availabilityState === 'available' };
    }
    if (ref !== undefined && ref.trim().toLowerCase() !== 'none') {
      context.target = (await peerGroupFacts(ref.trim())) ?? null;
    }
    return context;
  }

  /** After an update: the associations it puts out of sync (§1.1.2, "After update"), and the answer's info_message. */
  async function markOutOfSync(outcome: PeerGroupOutcome, currentGroup: number | null, ctx: CommandContext) {
    const associations = deps.geo?.associations;
    if (!associations) return { position: undefined, infoMessage: undefined };
    if (outcome.nonPrimaryRehomeUpdate && currentGroup !== null) {
      const r = await associations.markGroupSyncStatus(currentGroup, 'out-of-sync', ctx, true);
      return { position: r.position, infoMessage: undefined };
    }
    let position: bigint | undefined;
    const ids: number[] = [];
    for (const group of outcome.outOfSyncGroups) {
      const r = await associations.markGroupSyncStatus(group, 'out-of-sync', ctx);
      ids.push(...r.changed);
      position = latestPosition(position, r.position);
    }
    return { position, infoMessage: ids.length ? outOfSyncMessage(ids) : undefined };
  }

  /**
   * `before`: the subcloud as the caller found it, in the read model or its stream (its peer group decides which
   * rules apply).
   */
  async function update(before: SubcloudDoc | ActiveSubcloud, patch: SubcloudPatch, ctx: CommandContext, fromAnotherDc = false): Promise<SubcloudWriteResult> {
    const id = before.id;
    const { groupRef, ...rest } = patch;
    const changes: SubcloudChanges = { ...rest, ...(groupRef !== undefined ? { groupId: await resolveGroup(groupRef) } : {}) };
    const inPeerGroup = before.peerGroupId;
    const peerGroup = inPeerGroup !== null || changes.peerGroup !== undefined ? await peerGroupContext(inPeerGroup, changes.peerGroup) : undefined;
    const current = changes.name !== undefined ? await load(id) : undefined;
    const result = await withRename({
      uniqueness,
      scope: SUBCLOUD_NAME_SCOPE,
      holder: String(id),
      oldName: current?.state.status === 'active' ? current.state.name : undefined,
      newName: changes.name,
      context: ctx,
      stillHeld: usesName,
      taken: (name) => new ConflictError(subcloudExistsMessage(name)),
      run: async () => {
        const command: SubcloudCommand = { type: 'UpdateSubcloud', changes, fromAnotherDc, ...(peerGroup ? { peerGroup } : {}), at: ctx.now.toISOString() };
        const r = await decideSubcloud(id, command, ctx);
        return { state: r.state, revision: r.revision, position: r.position };
      },
      renamed: (r) => r.state.status === 'active' && r.state.name === changes.name,
    });
    if (!peerGroup || before.status !== 'active') return result;
    // The decider accepted the change against the same facts, so the rules give the same outcome here.
    const outcome = peerGroupOutcome(before as ActiveSubcloud, changes, fromAnotherDc, peerGroup);
    const marked = await markOutOfSync(outcome, inPeerGroup, ctx);
    return { ...result, position: latestPosition(result.position, marked.position), ...(marked.infoMessage ? { infoMessage: marked.infoMessage } : {}) };
  }

  /** Its peer group was deleted. */
  const leavePeerGroup = (id: number, ctx: CommandContext) => decideSubcloud(id, { type: 'LeavePeerGroup', at: ctx.now.toISOString() }, ctx);

  async function remove(id: number, ctx: CommandContext, fromAnotherDc = false): Promise<SubcloudWriteResult> {
    const r = await decideSubcloud(id, { type: 'DeleteSubcloud', fromAnotherDc, at: ctx.now.toISOString() }, ctx);
    const released =
      r.state.status === 'deleted' ? await uniqueness.release(SUBCLOUD_NAME_SCOPE, r.state.name, String(id), ctx) : undefined;
    return { state: r.state, revision: r.revision, position: latestPosition(r.position, released) };
  }

  /** Runs a workflow's or the audit's command on one subcloud's stream. */
  const record = (id: number, command: SubcloudCommand, ctx: CommandContext) => decideSubcloud(id, command, ctx);

  return { add, update, remove, record, leavePeerGroup, load };
}

export type SubcloudCommands = ReturnType<typeof subcloudCommands>;
