// The peer client between two real sites: A calls B's sysinv and dcmanager APIs signed in as the user B created for
// it, including the multipart subcloud calls a sync makes, and gets B's answers in dcmanager's shapes.
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peerDcmanager, PeerRequestError, type PeerDcmanager } from '../../adapters/peer/peerDcmanager.js';
import type { SystemPeerDoc } from '../../projections/distcloud/systemPeers.js';
import { COLLECTIONS } from '../../domain/distcloud/collections.js';
import { startPeeredSites, type PeeredSites } from '../support/peeredSites.js';
import { bootstrap } from '../unit/domain/subcloudFixtures.js';

let sites: PeeredSites;
let b: PeerDcmanager;

beforeAll(async () => {
  sites = await startPeeredSites();
  const peer = (await sites.a.site.readStore.get<SystemPeerDoc>(COLLECTIONS.systemPeers, String(sites.peerIds.atA)))!;
  b = peerDcmanager(sites.a.site.workflowDeps.geo!.directory.sessionFor(peer), { timeoutMs: 5_000 });
}, 60_000);
afterAll(async () => sites?.stop());

describe('peer dcmanager client', () => {
  it('reads the peer system UUID from sysinv and the system peer pointing back', async () => {
    expect(await b.systemUuid()).toBe(sites.b.site.localSystem().uuid);
    const back = await b.systemPeer(sites.a.site.localSystem().uuid);
    expect(back).toMatchObject({ 'peer-name': 'site-a', id: sites.peerIds.atB });
    expect(await b.systemPeer('00000000-0000-4000-8000-000000000000')).toBeUndefined();
  });

  it('creates a replica group and a secondary subcloud in it, multipart, as a peer', async () => {
    expect(await b.peerGroup('pg1')).toBeUndefined();
    const group = await b.addPeerGroup({ 'peer-group-name': 'pg1', 'group-priority': 1, 'system-leader-id': sites.a.site.localSystem().uuid, 'system-leader-name': 'site-a' });
    expect(group).toMatchObject({ peer_group_name: 'pg1', group_priority: 1 });
    const sub = await b.addSubcloud({
      fields: { secondary: 'true', region_name: 'abcdefabcdefabcdefabcdefabcdef01', 'bootstrap-address': '10.10.30.12' },
      files: { bootstrap_values: stringify(bootstrap({ name: 'sc1' })) },
    });
    expect(sub).toMatchObject({ name: 'sc1', 'deploy-status': 'secondary' });
    const joined = await b.updateSubcloud('abcdefabcdefabcdefabcdefabcdef01', { fields: { peer_group: String(group.id) } });
    expect(joined).toMatchObject({ peer_group_id: group.id });
    expect((await b.peerGroupSubclouds('pg1')).map((s) => s.name)).toEqual(['sc1']);
  });

  it('a refusal is a PeerRequestError with the peer\'s message', async () => {
    const err = await b.addPeerGroup({ 'peer-group-name': 'pg1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PeerRequestError);
    expect(err).toMatchObject({ status: 409, detail: 'A subcloud peer group with this name already exists' });
  });
});
