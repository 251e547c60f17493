// The identity service against a real Keystone client: python's keystoneauth1 (Debian's python3-keystoneauth1, which
// .ci/run installs) discovers /v3, gets a token by password, finds the dcmanager endpoint in the catalog by
// service type and the CLI's default interface (internal), and calls dcmanager through it.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSite, type TestSite } from '../support/site.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = new URL('./keystoneauth_client.py', import.meta.url).pathname;
const run = promisify(execFile);

async function hasKeystoneauth(): Promise<boolean> {
  if (!existsSync(PYTHON)) return false;
  try {
    await run(PYTHON, ['-c', 'import keystoneauth1']);
    return true;
  } catch {
    return false;
  }
}

const available = await hasKeystoneauth();
if (!available) console.warn('[identity] keystoneauth1 client test SKIPPED: /usr/bin/python3 has no keystoneauth1 (apt-get install python3-keystoneauth1)');

let t: TestSite;
beforeAll(async () => {
  // A real clock: keystoneauth checks the token's expiry against its own.
  t = await startTestSite({ env: { ADMIN_PASSWORD: 'first-admin-pw' }, clock: { now: () => new Date() } });
});
afterAll(async () => t?.stop());

describe.skipIf(!available)('keystoneauth1 (the dcmanager CLI\'s client library)', () => {
  it('authenticates at /v3, finds the dcmanager endpoint in the catalog, and calls dcmanager with the token', async () => {
    const { stdout } = await run(PYTHON, [SCRIPT, `${t.base}/v3`, 'admin', 'first-admin-pw', 'admin'], { timeout: 30_000 });
    const out = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(out).toMatchObject({ endpoint: `${t.base}/v1.0`, groups: ['Default'], project: 'admin' });
    expect(out.roles).toEqual(['admin', 'member', 'reader']);
  });

  it('a wrong password is refused as keystoneauth expects (Unauthorized)', async () => {
    const failed = await run(PYTHON, [SCRIPT, `${t.base}/v3`, 'admin', 'not-the-password', 'admin'], { timeout: 30_000 }).then(
      () => undefined,
      (e: { stderr: string }) => e.stderr,
    );
    expect(failed).toMatch(/keystoneauth1\.exceptions\.http\.Unauthorized/);
  });
});
