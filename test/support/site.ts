// A whole site in-process for tests: manual clock, silent logs, and the stores FLEETLEDGER_TEST_STORES names:
//   embedded (default)  SQLite in a temp dir + memory read store
//   esdb                EventStoreDB (our gRPC emulator, through the real client) + memory read store
//   production          EventStoreDB emulator + MongoDB (our wire emulator, through the real driver)
// vitest.config.ts runs the API and projection tests once more under `production`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Agent } from 'undici';
import { apiCaller, formCaller } from './http.js';
import { parseConfig } from '../../config.js';
import { manualClock } from '../../domain/core/clock.js';
import { createSite, openReadStore, type SiteOptions } from '../../site.js';
import { startEsdbEmulator, type EsdbEmulator } from './esdbEmulator/index.js';
import { startMongoEmulator, type MongoEmulator } from './mongoEmulator/index.js';

export const TEST_TOKEN = 'test-admin-token-0123456789';

export type TestStores = 'embedded' | 'esdb' | 'production';

export const testStores = (): TestStores => {
  const v = process.env.FLEETLEDGER_TEST_STORES ?? 'embedded';
  if (v !== 'embedded' && v !== 'esdb' && v !== 'production') throw new Error(`FLEETLEDGER_TEST_STORES=${v}?`);
  return v;
};

/** Emulators for the configured stores, and the environment that points a site at them. */
export async function startTestStores(stores: TestStores = testStores()) {
  const esdb: EsdbEmulator | undefined = stores === 'embedded' ? undefined : await startEsdbEmulator();
  const mongo: MongoEmulator | undefined = stores === 'production' ? await startMongoEmulator() : undefined;
  const env: Record<string, string> = {};
  if (esdb) Object.assign(env, { EVENT_STORE: 'esdb', ESDB_URL: esdb.connectionString });
  // A short server selection timeout: an outage test sees the 503 in a fraction of a second.
  if (mongo) Object.assign(env, { READ_STORE: 'mongo', MONGO_URL: `${mongo.url}&serverSelectionTimeoutMS=500`, MONGO_DB: 'fleetledger_test' });
  return {
    esdb,
    mongo,
    env,
    async stop() {
      await esdb?.stop();
      await mongo?.stop();
    },
  };
}

export async function startTestSite(
  overrides: Partial<SiteOptions> & { env?: Record<string, string>; stores?: TestStores } = {},
) {
  const dataDir = mkdtempSync(join(tmpdir(), 'fleetledger-test-'));
  const clock = manualClock('2026-03-01T10:00:00.000Z');
  const stores = await startTestStores(overrides.stores);
  const config = parseConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...stores.env, ...overrides.env });
  const readStore = overrides.readStore ?? (await openReadStore(config));
  // No workflows unless a test asks for them: a deploy or an audit would otherwise reach out to addresses the test
  // never meant to serve.
  const site = createSite({ config, adminToken: TEST_TOKEN, clock, logger: pino({ level: 'silent' }), readStore, workflows: [], ...overrides });
  const { port } = (await site.start({ port: 0, host: '127.0.0.1' }))!;
  const base = `http://127.0.0.1:${port}`;
  const agent = new Agent({ connections: 64 });
  return {
    site,
    clock,
    dataDir,
    stores,
    base,
    /** One HTTP call; JSON bodies are sent as JSON, the token is sent unless headers override it. */
    call: apiCaller(base, agent, TEST_TOKEN),
    /** One multipart call (POST/PATCH /v1.0/subclouds), as the dcmanager CLI sends it. */
    form: formCaller(base, TEST_TOKEN),
    async stop() {
      await agent.close();
      await site.stop();
      await stores.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type TestSite = Awaited<ReturnType<typeof startTestSite>>;
