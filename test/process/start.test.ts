// `npm start` as a newcomer runs it: no ADMIN_TOKEN set, so the site makes one and prints it once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllSiteProcesses, startSiteProcess } from '../support/process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'fleetledger-start-'));
afterAll(async () => {
  await killAllSiteProcesses();
  rmSync(dataDir, { recursive: true, force: true });
});

const TOKEN_LINE = /^fleetledger admin token \(set ADMIN_TOKEN to choose your own\): (\S+)$/;

describe('npm start without ADMIN_TOKEN', () => {
  it('prints a generated token once, never logs it, and accepts only that token', async () => {
    const site = await startSiteProcess({ dataDir, env: { ADMIN_TOKEN: '' } });
    const lines = site.output().stdout;
    const tokens = lines.map((l) => TOKEN_LINE.exec(l)?.[1]).filter((t): t is string => t !== undefined);
    expect(tokens).toHaveLength(1);
    const token = tokens[0]!;
    expect(token.length).toBeGreaterThanOrEqual(32);

    expect((await site.call('GET', '/v1.0/subcloud-groups', undefined, { 'x-auth-token': 'guess-guess-guess-guess' })).status).toBe(401);
    const list = await site.call('GET', '/v1.0/subcloud-groups', undefined, { 'x-auth-token': token });
    expect(list.status).toBe(200);
    expect(list.json.subcloud_groups.map((g: any) => g.name)).toEqual(['Default']);

    // the token appears on its own line only, in no JSON log line
    const all = site.output().stdout.join('\n') + site.output().stderr.join('\n');
    expect(all.split(token).length - 1).toBe(1);

    await site.stopGracefully();
    expect(await site.exited).toEqual({ code: 0, signal: null });

    // a restart makes a new one; the old one stops working
    const again = await startSiteProcess({ dataDir, env: { ADMIN_TOKEN: '' } });
    const next = again.output().stdout.map((l) => TOKEN_LINE.exec(l)?.[1]).find((t) => t !== undefined);
    expect(next).toBeDefined();
    expect(next).not.toBe(token);
    expect((await again.call('GET', '/v1.0/subcloud-groups', undefined, { 'x-auth-token': token })).status).toBe(401);
    await again.stopGracefully();
  });
});
