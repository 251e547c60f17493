// The docker-compose topology in miniature, as real processes: two ROLE=api processes and one ROLE=projector share
// EventStoreDB (our gRPC emulator) and MongoDB (our wire emulator). A write through either API is answered once the
// projector's checkpoint in MongoDB passed it (read your writes across processes), and both APIs then show it.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllSiteProcesses, startSiteProcess, type SiteProcess } from '../support/process.js';
import { startTestStores } from '../support/site.js';

const dataDir = mkdtempSync(join(tmpdir(), 'fleetledger-roles-'));
let stores: Awaited<ReturnType<typeof startTestStores>>;
let apiA: SiteProcess;
let apiB: SiteProcess;
let projector: SiteProcess;

beforeAll(async () => {
  stores = await startTestStores('production');
  // Every process of a site seals and opens secrets with the same key.
  const env = { ...stores.env, SECRET_KEY: randomBytes(32).toString('base64') };
  projector = await startSiteProcess({ dataDir, env: { ...env, ROLE: 'projector' } });
  [apiA, apiB] = await Promise.all([
    startSiteProcess({ dataDir, env: { ...env, ROLE: 'api' } }),
    startSiteProcess({ dataDir, env: { ...env, ROLE: 'api' } }),
  ]);
}, 60_000);

afterAll(async () => {
  await killAllSiteProcesses();
  await stores.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const group = (name: string) => ({ name, description: 'roles', update_apply_type: 'serial', max_parallel_subclouds: 3 });

describe('ROLE=api ×2 + ROLE=projector on EventStoreDB and MongoDB', () => {
  it('both APIs see the Default group the projector wrote, and report their role', async () => {
    for (const api of [apiA, apiB]) {
      const list = await api.call('GET', '/v1.0/subcloud-groups');
      expect(list.json.subcloud_groups.map((g: any) => g.name)).toEqual(['Default']);
      const ready = await api.call('GET', '/ready');
      expect(ready.status).toBe(200);
      expect(ready.json.role).toBe('api');
    }
    expect((await projector.call('GET', '/ready')).json.role).toBe('projector');
  });

  it('a write through one API is readable at once through the other (read your writes via the projector checkpoint)', async () => {
    const created = await apiA.call('POST', '/v1.0/subcloud-groups', group('made-on-a'));
    expect(created.status).toBe(200);
    expect(created.headers['fleetledger-consistency']).toBeUndefined();
    const onB = await apiB.call('GET', `/v1.0/subcloud-groups/made-on-a`);
    expect(onB.status).toBe(200);
    expect(onB.json.id).toBe(created.json.id);

    const edited = await apiB.call('PATCH', `/v1.0/subcloud-groups/${created.json.id}`, { description: 'edited on b' });
    expect(edited.status).toBe(200);
    expect((await apiA.call('GET', `/v1.0/subcloud-groups/${created.json.id}`)).json.description).toBe('edited on b');
  });

  it('concurrent creates of one name through both APIs: exactly one wins, the other gets dcmanager\'s duplicate-name 400', async () => {
    const [a, b] = await Promise.all([apiA.call('POST', '/v1.0/subcloud-groups', group('contested')), apiB.call('POST', '/v1.0/subcloud-groups', group('contested'))]);
    expect([a.status, b.status].sort()).toEqual([200, 400]);
    const loser = a.status === 400 ? a : b;
    expect(loser.json.error.message).toBe('A subcloud group with this name already exists');
  });

  it('the projector serves health but no API', async () => {
    expect((await projector.call('GET', '/health')).status).toBe(200);
    expect((await projector.call('GET', '/v1.0/subcloud-groups')).status).toBe(404);
  });
});
