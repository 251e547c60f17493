// A whole site in-process for tests: SQLite in a temp dir, memory read store, manual clock, silent logs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Agent } from 'undici';
import { apiCaller } from './http.js';
import { parseConfig } from '../../config.js';
import { manualClock } from '../../domain/core/clock.js';
import { createSite, type SiteOptions } from '../../site.js';

export const TEST_TOKEN = 'test-admin-token-0123456789';

export async function startTestSite(overrides: Partial<SiteOptions> & { env?: Record<string, string> } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'fleetledger-test-'));
  const clock = manualClock('2026-03-01T10:00:00.000Z');
  const config = parseConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...overrides.env });
  const site = createSite({ config, adminToken: TEST_TOKEN, clock, logger: pino({ level: 'silent' }), ...overrides });
  const { port } = (await site.start({ port: 0, host: '127.0.0.1' }))!;
  const base = `http://127.0.0.1:${port}`;
  const agent = new Agent({ connections: 64 });
  return {
    site,
    clock,
    dataDir,
    base,
    /** One HTTP call; JSON bodies are sent as JSON, the token is sent unless headers override it. */
    call: apiCaller(base, agent, TEST_TOKEN),
    async stop() {
      await agent.close();
      await site.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type TestSite = Awaited<ReturnType<typeof startTestSite>>;
