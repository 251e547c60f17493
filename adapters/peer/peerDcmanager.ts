// The calls one site makes on its peer site's dcmanager API (dcmanager's dcmanager_v1 client and sysinv client,
// spec §3.6), typed: each answers the peer's JSON document, `undefined` where a 404 is an expected answer ("the peer
// has no such group yet"), and throws PeerRequestError for any other non-2xx (dcmanager raises on every non-200) or
// PeerUnreachableError / PeerAuthError from the session. Subcloud calls are multipart, as dcmanager's are, and carry
// `User-Agent: dcmanager/1.0`, which the peer honours only for a user with the peer role.
import { FormData } from 'undici';
import type { PeerAnswer, PeerSession } from './peerSession.js';

/** The peer answered, but not with success. */
export class PeerRequestError extends Error {
  constructor(
    readonly what: string,
    readonly status: number,
    /** The peer's message (its error body's `message`), or the raw status. */
    readonly detail: string,
  ) {
    super(`${what}: HTTP ${status}: ${detail}`);
  }
}

/** A peer's JSON document: dcmanager's keys as it renders them (`peer-group-name`, `sync-status`, ...). */
export type PeerDoc = Record<string, unknown>;

/** Multipart parts: text fields, and files (bootstrap_values, install_values) sent as `<name>.yaml`. */
export interface SubcloudForm {
  fields?: Record<string, string>;
  files?: Record<string, string>;
}

const enc = encodeURIComponent;

function detailOf(answer: PeerAnswer): string {
  const body = answer.json as { error?: { message?: unknown } } | undefined;
  return typeof body?.error?.message === 'string' ? body.error.message : `HTTP ${answer.status}`;
}

function formData(form: SubcloudForm): FormData {
  const data = new FormData();
  for (const [k, v] of Object.entries(form.fields ?? {})) data.set(k, v);
  for (const [k, v] of Object.entries(form.files ?? {})) data.set(k, new Blob([v]), `${k}.yaml`);
  return data;
}

export interface PeerDcmanagerOptions {
  /** Per call (default: the session's, dcmanager's 600 s). */
  timeoutMs?: number;
}

export function peerDcmanager(session: PeerSession, options: PeerDcmanagerOptions = {}) {
  const opts = (asPeer: boolean, service?: 'platform') => ({
    asPeer,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(service ? { service } : {}),
  });

  /** A call whose only good answer is 2xx. */
  async function must(what: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, asPeer = false, service?: 'platform') {
    const r = await session.call(method, path, body, opts(asPeer, service));
    if (r.status < 200 || r.status > 299) throw new PeerRequestError(what, r.status, detailOf(r));
    return r.json;
  }

  /** A GET whose 404 means "none". */
  async function maybe(what: string, path: string, asPeer = false): Promise<PeerDoc | undefined> {
    const r = await session.call('GET', path, undefined, opts(asPeer));
    if (r.status === 404) return undefined;
    if (r.status !== 200) throw new PeerRequestError(what, r.status, detailOf(r));
    return r.json as PeerDoc;
  }

  return {
    /** sysinv's system UUID (step 1 of a sync: the peer is the system the system peer names). */
    async systemUuid(): Promise<string | undefined> {
      const body = (await must('get the peer system', 'GET', '/isystems', undefined, false, 'platform')) as { isystems?: { uuid?: string }[] };
      return body?.isystems?.[0]?.uuid;
    },

    /** The peer's system peer for `uuid` (this site), if it has one. */
    systemPeer: (uuid: string) => maybe('get the system peer', `/system-peers/${enc(uuid)}`),

    peerGroup: (ref: string) => maybe('get the subcloud peer group', `/subcloud-peer-groups/${enc(ref)}`),
    listPeerGroups: async () => ((await must('list the subcloud peer groups', 'GET', '/subcloud-peer-groups')) as { subcloud_peer_groups: PeerDoc[] }).subcloud_peer_groups,
    addPeerGroup: async (body: Record<string, unknown>) => (await must('create the subcloud peer group', 'POST', '/subcloud-peer-groups', body, true)) as PeerDoc,
    updatePeerGroup: async (ref: string, body: Record<string, unknown>) =>
      (await must('update the subcloud peer group', 'PATCH', `/subcloud-peer-groups/${enc(ref)}`, body, true)) as PeerDoc,
    deletePeerGroup: (ref: string) => must('delete the subcloud peer group', 'DELETE', `/subcloud-peer-groups/${enc(ref)}`, undefined, true),
    peerGroupSubclouds: async (ref: string) =>
      ((await must('list the subcloud peer group subclouds', 'GET', `/subcloud-peer-groups/${enc(ref)}/subclouds`, undefined, true)) as { subclouds: PeerDoc[] }).subclouds,
    /** Asks the peer to audit its copy of a group against this site's (the end of a batch migration). */
    auditPeerGroup: async (ref: string, body: Record<string, unknown>) =>
      (await must('audit the subcloud peer group', 'PATCH', `/subcloud-peer-groups/${enc(ref)}/audit`, body, true)) as { message?: string | null },

    listAssociations: async () =>
      ((await must('list the peer group associations', 'GET', '/peer-group-associations')) as { peer_group_associations: PeerDoc[] }).peer_group_associations,
    /** The peer's association of its group `peerGroupId` with its system peer `systemPeerId`, if any. */
    async findAssociation(peerGroupId: unknown, systemPeerId: unknown): Promise<PeerDoc | undefined> {
      const all = ((await must('list the peer group associations', 'GET', '/peer-group-associations')) as { peer_group_associations: PeerDoc[] })
        .peer_group_associations;
      return all.find((a) => a['peer-group-id'] === peerGroupId && a['system-peer-id'] === systemPeerId);
    },
    addAssociation: async (body: { peer_group_id: unknown; system_peer_id: unknown }) =>
      (await must('create the peer group association', 'POST', '/peer-group-associations', body, true)) as PeerDoc,
    setAssociationSyncStatus: async (id: unknown, syncStatus: string) =>
      (await must('update the peer group association sync_status', 'PATCH', `/peer-group-associations/${enc(String(id))}`, { sync_status: syncStatus }, true)) as PeerDoc,
    deleteAssociation: (id: unknown) => must('delete the peer group association', 'DELETE', `/peer-group-associations/${enc(String(id))}`, undefined, true),

    /** A subcloud by region name (a peer's request looks subclouds up by region). */
    subcloudDetail: (region: string) => maybe('get the subcloud', `/subclouds/${enc(region)}/detail`, true),
    addSubcloud: async (form: SubcloudForm) => (await must('add the subcloud', 'POST', '/subclouds', formData(form), true)) as PeerDoc,
    updateSubcloud: async (region: string, form: SubcloudForm) =>
      (await must('update the subcloud', 'PATCH', `/subclouds/${enc(region)}`, formData(form), true)) as PeerDoc,
    /** By name: dcmanager's DELETE looks subclouds up by id or name only. */
    deleteSubcloud: (name: string) => must('delete the subcloud', 'DELETE', `/subclouds/${enc(name)}`, undefined, true),
  };
}

export type PeerDcmanager = ReturnType<typeof peerDcmanager>;
