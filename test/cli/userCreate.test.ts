// `npm run cli -- user create`: a user written to the site's event store, who can then log in to the running site.
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../api/cli/run.js';
import { startTestSite, type TestSite } from '../support/site.js';
import { passwordLogin } from '../support/identity.js';

let t: TestSite;
beforeAll(async () => {
  t = await startTestSite({ env: { ADMIN_PASSWORD: 'first-admin-pw' } });
});
afterAll(async () => t.stop());

async function cli(argv: string[], stdin?: string) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    env: { DATA_DIR: t.dataDir, LOG_LEVEL: 'silent' },
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s), isTTY: false },
    ...(stdin !== undefined ? { stdin: Readable.from([stdin]) } : {}),
  });
  return { code, stdout, stderr };
}

async function login(name: string, password: string, project: string) {
  await t.site.runner.waitFor(await t.site.eventStore.headPosition(), 5_000);
  return t.call(
    'POST',
    '/v3/auth/tokens',
    passwordLogin(name, password, project),
    { 'x-auth-token': '' },
  );
}

describe('cli user create', () => {
  it('creates a user with roles on a project; the running site lets it log in with them', async () => {
    const r = await cli(['user', 'create', 'ops1', '--role', 'operator', '--role', 'reader', '--project', 'services', '--password-stdin'], 'ops1-password\n');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^created user ops1 \(id [0-9a-f]{32}\) with operator, reader on project services\n$/);
    const token = await login('ops1', 'ops1-password', 'services');
    expect(token.status).toBe(201);
    expect(token.json.token.roles.map((x: any) => x.name)).toEqual(['reader', 'operator']);
  });

  it('generates and prints a password when none is given; refuses a duplicate name, an unknown role or project', async () => {
    const r = await cli(['user', 'create', 'cfg1', '--role', 'configurator']);
    expect(r.code, r.stderr).toBe(0);
    const password = /\npassword: (\S+)\n$/.exec(r.stdout)?.[1];
    expect(password).toBeDefined();
    expect((await login('cfg1', password!, 'admin')).status).toBe(201);
    expect(await cli(['user', 'create', 'cfg1', '--password', 'another-password'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/Duplicate entry found with name cfg1/) });
    expect(await cli(['user', 'create', 'x1', '--role', 'wizard', '--password', 'another-password'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/no role "wizard"/) });
    expect(await cli(['user', 'create', 'x1', '--project', 'demo', '--password', 'another-password'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/no project "demo"/) });
    expect(await cli(['user', 'create'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/expected one <name>/) });
  });
});
