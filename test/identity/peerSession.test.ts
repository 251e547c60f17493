// A site's client for its peer's dcmanager (spec §3.6): password login at the peer's /v3, the dcmanager endpoint
// from the catalog, the token kept until shortly before it expires, one fresh login when the peer answers 401.
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peerSession, PeerAuthError, PeerUnreachableError } from '../../adapters/peer/peerSession.js';
import { systemContext } from '../../commands/core/context.js';
import { manualClock } from '../../domain/core/clock.js';
import { PROJECTS } from '../../domain/identity/catalog.js';
import { startTestSite, type TestSite } from '../support/site.js';
import { bootstrap, SYSADMIN_B64 } from '../unit/domain/subcloudFixtures.js';

/** The peer site; this test plays the site that calls it. */
let peer: TestSite;
const localClock = manualClock('2026-03-01T10:00:00.000Z');

beforeAll(async () => {
  peer = await startTestSite({ env: { ADMIN_PASSWORD: 'first-admin-pw' } });
  await peer.site.commands.identity.createUser({ name: 'site-a', password: 'site-a-password' }, systemContext(peer.clock.now(), 'test'), [
    { projectId: PROJECTS[0].id, role: 'admin' },
    { projectId: PROJECTS[0].id, role: 'peer' },
  ]);
  await peer.site.runner.waitFor(await peer.site.eventStore.headPosition(), 5_000);
});
afterAll(async () => peer?.stop());

const sessionFor = (password = 'site-a-password', authUrl = `${peer.base}/v3`) =>
  peerSession({ authUrl, username: 'site-a', password }, { clock: localClock, timeoutMs: 5_000 });

describe('peer session', () => {
  it('logs in once, finds dcmanager in the catalog, and reuses the token until shortly before it expires', async () => {
    const s = sessionFor();
    try {
      const r = await s.call('GET', '/subcloud-groups');
      expect(r.status).toBe(200);
      expect((r.json as any).subcloud_groups.map((g: any) => g.name)).toEqual(['Default']);
      await s.call('GET', '/subcloud-groups');
      expect(s.logins()).toBe(1);
      localClock.advance(58 * 60_000); // 2 minutes left: still kept
      await s.call('GET', '/subcloud-groups');
      expect(s.logins()).toBe(1);
      localClock.advance(90_000); // 30 s left: renewed first
      expect((await s.call('GET', '/subcloud-groups')).status).toBe(200);
      expect(s.logins()).toBe(2);
    } finally {
      await s.close();
    }
  });

  it('logs in again when the peer refuses its token (revoked), then succeeds', async () => {
    const s = sessionFor();
    try {
      await s.call('GET', '/subcloud-groups');
      // Revoke every token of site-a on the peer: its password changes and changes back.
      const user = (await peer.site.commands.identity.userByName('site-a'))!;
      peer.clock.advance(1_000);
      await peer.site.commands.identity.updateUser(user.id, { password: 'site-a-password' }, systemContext(peer.clock.now(), 'test'));
      await peer.site.runner.waitFor(await peer.site.eventStore.headPosition(), 5_000);
      expect((await s.call('GET', '/subcloud-groups')).status).toBe(200);
      expect(s.logins()).toBe(2);
    } finally {
      await s.close();
    }
  });

  it('speaks as a peer when asked: the region lookup dcmanager gives peers works', async () => {
    const added = await peer.form('POST', '/v1.0/subclouds', { sysadmin_password: SYSADMIN_B64, 'bootstrap-address': '10.10.10.12' }, { bootstrap_values: stringify(bootstrap()) });
    const s = sessionFor();
    try {
      expect((await s.call('GET', `/subclouds/${added.json['region-name']}`)).status).toBe(404);
      const asPeer = await s.call('GET', `/subclouds/${added.json['region-name']}`, undefined, { asPeer: true });
      expect(asPeer.status).toBe(200);
      expect((asPeer.json as any).name).toBe('subcloud1');
    } finally {
      await s.close();
    }
  });

  it('wrong credentials and an unreachable peer are errors that say which', async () => {
    const wrong = sessionFor('not-the-password');
    await expect(wrong.call('GET', '/subcloud-groups')).rejects.toThrow(PeerAuthError);
    await expect(wrong.call('GET', '/subcloud-groups')).rejects.toThrow('peer site refused the credentials of site-a (HTTP 401)');
    await wrong.close();
    const away = sessionFor('site-a-password', 'http://127.0.0.1:1/v3');
    await expect(away.call('GET', '/subcloud-groups')).rejects.toThrow(PeerUnreachableError);
    await away.close();
  });
});
