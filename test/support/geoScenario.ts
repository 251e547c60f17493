// Two fleetledger sites as real OS processes (A and B, each `node main.ts` on its own data directory and a fixed
// loopback port) and the fleet simulator, for the geo-redundancy scenarios of issue 6. A site is taken down by
// stopping its process and brought back on the same data and port, so its peer's system peer keeps pointing at it.
// Time is compressed through configuration (WORKFLOW_TIME_SCALE, SUBCLOUD_AUDIT_INTERVAL), never by sleeping for
// the real intervals.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { startFleetSimulator, type FleetSimulator } from '../../simulator/fleet.js';
import { freePort } from './net.js';
import { killAllSiteProcesses, startSiteProcess, type SiteProcess } from './process.js';

export { freePort };

export type SiteName = 'a' | 'b';


export interface GeoScenarioOptions {
  subclouds: number;
  /** First simulated subcloud address (each scenario file its own range). */
  baseAddress: string;
  /** How long each simulated operation takes (real time). */
  opDurationMs?: number;
  /** WORKFLOW_TIME_SCALE of both sites (default 0.02: a 10 s heartbeat every 0.2 s). */
  timeScale?: number;
  env?: Record<string, string>;
}

/** Passwords of the users each site creates for the other (roles admin + peer on the admin project). */
const PEER_PASSWORD: Record<SiteName, string> = { a: 'site-b-signs-in-at-a', b: 'site-a-signs-in-at-b' };

export async function startGeoScenario(o: GeoScenarioOptions) {
  const agentPort = await freePort();
  const simDir = mkdtempSync(join(tmpdir(), 'fleetledger-geo-sim-'));
  const sim: FleetSimulator = await startFleetSimulator({
    subclouds: o.subclouds,
    baseAddress: o.baseAddress,
    port: agentPort,
    adminPort: 0,
    opDurationMs: o.opDurationMs ?? 300,
    initialState: 'configured',
    outputDir: simDir,
  });
  const ports: Record<SiteName, number> = { a: await freePort(), b: await freePort() };
  const dirs: Record<SiteName, string> = {
    a: mkdtempSync(join(tmpdir(), 'fleetledger-geo-a-')),
    b: mkdtempSync(join(tmpdir(), 'fleetledger-geo-b-')),
  };
  const env = (name: SiteName): Record<string, string> => ({
    SYSTEM_NAME: `site-${name}`,
    PORT: String(ports[name]),
    SUBCLOUD_AGENT_PORT: String(agentPort),
    SUBCLOUD_AUDIT_INTERVAL: '1',
    WORKFLOW_TIME_SCALE: String(o.timeScale ?? 0.02),
    READ_YOUR_WRITES_TIMEOUT_MS: '5000',
    ...o.env,
  });
  const start = (name: SiteName) => startSiteProcess({ dataDir: dirs[name], env: env(name), startTimeoutMs: 30_000 });
  const sites: Record<SiteName, SiteProcess> = { a: await start('a'), b: await start('b') };
  const other = (name: SiteName): SiteName => (name === 'a' ? 'b' : 'a');

  /** The user `name`'s peer signs in with, on site `name`. */
  async function createPeerUser(name: SiteName) {
    const site = sites[name];
    const user = await site.call('POST', '/v3/users', { user: { name: `site-${other(name)}`, password: PEER_PASSWORD[name] } });
    expect(user.status, user.text).toBe(201);
    for (const role of ['admin', 'peer']) {
      const r = await site.call('PUT', `/v3/projects/admin/users/${user.json.user.id}/roles/${role}`);
      expect(r.status, r.text).toBe(204);
    }
  }

  /** System peer `name` → the other site: its UUID from sysinv, its Keystone, the user made for `name` there. */
  async function createSystemPeer(name: SiteName, fields: Record<string, unknown>) {
    const target = other(name);
    const system = await sites[target].call('GET', '/v1/isystems');
    const r = await sites[name].call('POST', '/v1.0/system-peers', {
      peer_uuid: system.json.isystems[0].uuid,
      peer_name: `site-${target}`,
      manager_endpoint: `http://127.0.0.1:${ports[target]}/v3`,
      manager_username: `site-${name}`,
      manager_password: Buffer.from(PEER_PASSWORD[target]).toString('base64'),
      peer_controller_gateway_address: '192.168.204.101',
      heartbeat_interval: 10,
      heartbeat_failure_threshold: 2,
      ...fields,
    });
    expect(r.status, r.text).toBe(200);
    return r.json as { id: number; 'peer-uuid': string };
  }

  return {
    sim,
    sites,
    ports,
    /** Users and system peers both ways (A→B, B→A). */
    async peer(fields: Record<string, unknown> = {}) {
      await createPeerUser('a');
      await createPeerUser('b');
      return { atA: await createSystemPeer('a', fields), atB: await createSystemPeer('b', fields) };
    },
    /** Takes a site down: its process stops (SIGTERM, then SIGKILL). */
    async down(name: SiteName) {
      await sites[name].stopGracefully();
    },
    /** Brings a site back on the same data directory and port. */
    async up(name: SiteName) {
      sites[name] = await start(name);
      return sites[name];
    },
    async stop() {
      await killAllSiteProcesses();
      await sim.stop();
      for (const dir of [...Object.values(dirs), simDir]) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type GeoScenario = Awaited<ReturnType<typeof startGeoScenario>>;

/** Polls `probe` (real time, bounded) until it returns a value `done` accepts; the scenarios' only wait. */
export async function eventually<T>(probe: () => Promise<T>, done: (v: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: T;
  for (;;) {
    last = await probe();
    if (done(last)) return last;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
