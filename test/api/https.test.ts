// HTTPS when TLS_CERT_FILE and TLS_KEY_FILE are set: the API and the identity service answer over TLS only, and
// the token catalog names https URLs.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config.js';
import { createSite, openReadStore, type Site } from '../../site.js';
import { passwordLogin } from '../support/identity.js';

const certFile = new URL('../support/tls/cert.pem', import.meta.url).pathname;
const keyFile = new URL('../support/tls/key.pem', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'fleetledger-https-'));
let site: Site;
let port: number;
const trusting = new Agent({ connect: { ca: readFileSync(certFile) } });

beforeAll(async () => {
  const config = parseConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile, ADMIN_PASSWORD: 'first-admin-pw' });
  site = createSite({ config, logger: pino({ level: 'silent' }), readStore: await openReadStore(config), workflows: [] });
  port = (await site.start({ port: 0, host: '127.0.0.1' }))!.port;
});
afterAll(async () => {
  await site?.stop();
  await trusting.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('HTTPS', () => {
  it('serves the API over TLS with the configured certificate; the catalog says https', async () => {
    const login = await request(`https://127.0.0.1:${port}/v3/auth/tokens`, {
      method: 'POST',
      dispatcher: trusting,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(passwordLogin('admin', 'first-admin-pw')),
    });
    expect(login.statusCode).toBe(201);
    const body = (await login.body.json()) as any;
    const dcmanager = body.token.catalog.find((s: any) => s.type === 'dcmanager');
    expect(dcmanager.endpoints[0].url).toBe(`https://127.0.0.1:${port}/v1.0`);
    const groups = await request(`https://127.0.0.1:${port}/v1.0/subcloud-groups`, {
      dispatcher: trusting,
      headers: { 'x-auth-token': login.headers['x-subject-token'] as string, accept: 'application/json' },
    });
    expect(groups.statusCode).toBe(200);
    await groups.body.dump();
  });

  it('plain HTTP to the same port gets no API answer', async () => {
    const plain = await request(`http://127.0.0.1:${port}/health`).then(
      async (r) => {
        await r.body.dump();
        return r.statusCode;
      },
      (e: Error) => e.name,
    );
    expect(plain).not.toBe(200);
  });
});
