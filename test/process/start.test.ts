// `npm start` as a newcomer runs it: no ADMIN_TOKEN, no ADMIN_PASSWORD. The first start creates the `admin` user
// with a generated password and prints it once; a token from POST /v3/auth/tokens then opens the API.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllSiteProcesses, startSiteProcess, type SiteProcess } from '../support/process.js';
import { passwordLogin } from '../support/identity.js';

const dataDir = mkdtempSync(join(tmpdir(), 'fleetledger-start-'));
afterAll(async () => {
  await killAllSiteProcesses();
  rmSync(dataDir, { recursive: true, force: true });
});

const PASSWORD_LINE = /^fleetledger: created user admin \(project admin, role admin\) with password: (\S+)$/;
const NO_TOKEN = { 'x-auth-token': '' };

async function login(site: SiteProcess, password: string) {
  return site.call(
    'POST',
    '/v3/auth/tokens',
    passwordLogin('admin', password),
    NO_TOKEN,
  );
}

describe('npm start without ADMIN_TOKEN or ADMIN_PASSWORD', () => {
  it('creates admin with a password printed once and never logged; its tokens open the API, before and after a restart', async () => {
    const site = await startSiteProcess({ dataDir, env: { ADMIN_TOKEN: '', ADMIN_PASSWORD: '' } });
    const passwords = site.output().stdout.map((l) => PASSWORD_LINE.exec(l)?.[1]).filter((t): t is string => t !== undefined);
    expect(passwords).toHaveLength(1);
    const password = passwords[0]!;
    expect(password.length).toBeGreaterThanOrEqual(20);

    expect((await site.call('GET', '/v1.0/subcloud-groups', undefined, NO_TOKEN)).status).toBe(401);
    expect((await site.call('GET', '/v1.0/subcloud-groups', undefined, { 'x-auth-token': 'guess-guess-guess-guess' })).status).toBe(401);
    expect((await login(site, 'wrong-password')).status).toBe(401);
    const r = await login(site, password);
    expect(r.status).toBe(201);
    const token = r.headers['x-subject-token'] as string;
    const list = await site.call('GET', '/v1.0/subcloud-groups', undefined, { 'x-auth-token': token });
    expect(list.status).toBe(200);
    expect(list.json.subcloud_groups.map((g: any) => g.name)).toEqual(['Default']);

    // The password appears on its own line only, in no JSON log line; the token in none.
    const all = site.output().stdout.join('\n') + site.output().stderr.join('\n');
    expect(all.split(password).length - 1).toBe(1);
    expect(all.includes(token)).toBe(false);

    await site.stopGracefully();
    expect(await site.exited).toEqual({ code: 0, signal: null });

    // A restart creates nothing and prints nothing; the password and the token still work (keys kept in DATA_DIR).
    const again = await startSiteProcess({ dataDir, env: { ADMIN_TOKEN: '', ADMIN_PASSWORD: '' } });
    expect(again.output().stdout.some((l) => PASSWORD_LINE.test(l))).toBe(false);
    expect((await again.call('GET', '/v1.0/subcloud-groups', undefined, { 'x-auth-token': token })).status).toBe(200);
    expect((await login(again, password)).status).toBe(201);
    await again.stopGracefully();
  });
});
