// The server side of the HTTP benchmark, run as a child process (see http.ts): a real site (SQLite event store in a
// temp data dir, memory read store, the admin token) and, in the same process, a bare express app whose PATCH route
// only parses JSON and answers a small JSON body: the baseline for what express and node cost on their own.
// Talks to its parent over IPC: sends `ready` with both ports, answers `usage`, and on `stop` closes everything.
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import express from 'express';
import { parseConfig } from '../config.js';
import { createSite } from '../site.js';
import { BENCH_TOKEN } from './lib.js';

export type ServerMessage =
  | { type: 'ready'; sitePort: number; barePort: number; pid: number }
  | { type: 'usage'; cpuMicros: number; elu: number; rssMB: number; heapUsedMB: number }
  | { type: 'stopped' }
  | { type: 'failed'; error: string };

export type ServerRequest = { type: 'usage' } | { type: 'stop' };

const send = (m: ServerMessage) => process.send?.(m);

async function main() {
  const logLevel = process.argv[2] ?? 'warn';
  const dataDir = mkdtempSync(join(tmpdir(), 'fleetledger-bench-http-'));
  const config = parseConfig({ DATA_DIR: dataDir, LOG_LEVEL: logLevel, HOST: '127.0.0.1', PORT: '0' });
  const site = createSite({ config, adminToken: BENCH_TOKEN });
  const { port: sitePort } = (await site.start({ port: 0, host: '127.0.0.1' }))!;

  const bare = express();
  bare.disable('x-powered-by');
  bare.set('etag', false);
  bare.use(express.json());
  bare.patch('/v1.0/subcloud-groups/:ref', (req, res) => {
    res.json({ id: Number(req.params.ref), description: (req.body as { description?: unknown })?.description ?? null });
  });
  const bareServer = bare.listen(0, '127.0.0.1');
  await once(bareServer, 'listening');
  const barePort = (bareServer.address() as AddressInfo).port;

  // CPU time and event-loop utilisation since the last `usage` message: what one measured phase cost the server.
  let cpu = process.cpuUsage();
  let elu = performance.eventLoopUtilization();

  let stopping = false;
  async function stop() {
    if (stopping) return;
    stopping = true;
    await new Promise<void>((resolve) => bareServer.close(() => resolve()));
    bareServer.closeAllConnections();
    await site.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }

  process.on('message', (m: ServerRequest) => {
    if (m.type === 'usage') {
      const c = process.cpuUsage(cpu);
      const e = performance.eventLoopUtilization(elu);
      cpu = process.cpuUsage();
      elu = performance.eventLoopUtilization();
      const mem = process.memoryUsage();
      send({ type: 'usage', cpuMicros: c.user + c.system, elu: e.utilization, rssMB: mem.rss / 1e6, heapUsedMB: mem.heapUsed / 1e6 });
    } else if (m.type === 'stop') {
      void stop().then(
        () => {
          send({ type: 'stopped' });
          // A normal exit, so --cpu-prof (if the parent asked for it) writes its profile.
          process.disconnect();
          // Should something still hold the event loop, leave anyway (unref'd: it never delays a clean exit).
          setTimeout(() => process.exit(0), 5_000).unref();
        },
        (error: unknown) => {
          send({ type: 'failed', error: String(error) });
          process.exit(1);
        },
      );
    }
  });
  // The parent went away without asking: do not linger.
  process.on('disconnect', () => {
    if (!stopping) void stop().finally(() => process.exit(0));
  });

  send({ type: 'ready', sitePort, barePort, pid: process.pid });
}

main().catch((error: unknown) => {
  send({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(1);
});
