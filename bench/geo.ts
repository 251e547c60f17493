// Section `geo` of `npm run bench` (opt-in: --only=geo): two sites and the simulator as three processes, issue 6's
// figures, with real time (WORKFLOW_TIME_SCALE 1):
// - setup (not measured): site A takes over N running subclouds (migrate=true: a rehome to A each), manages them and
//   puts them in peer group pg1 with their rehome data; each site creates the other's user and system peer
//   (heartbeat_interval 10 s, threshold 2);
// - sync: A's association with B (priority 2) until both associations are `in-sync`: wall time, and the requests B
//   served meanwhile (B's access log lines, counted by method);
// - migration: PATCH /migrate on B with max_subcloud_rehoming R and rehomes of S seconds, until pg1 is `complete` on B:
//   wall time against the ideal N / R x S (target: ideal x 1.1), and how many subclouds ended complete and managed;
// - dead peer: A's process is killed; the time until B records A `unavailable`, against threshold x interval + 1 s.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_TOKEN, seconds } from './lib.js';
import { siteClient } from './siteClient.js';
import { freePort, pool, rssMB, startProcess, type Proc } from './subclouds.js';

export interface GeoOptions {
  subclouds: number;
  maxSubcloudRehoming: number;
  rehomeSeconds: number;
  heartbeatInterval: number;
  heartbeatFailureThreshold: number;
  clientConcurrency: number;
  timeoutSeconds: number;
  say: (line: string) => void;
}

export interface GeoResults {
  subclouds: number;
  maxSubcloudRehoming: number;
  rehomeSeconds: number;
  setupSeconds: number;
  sync: { seconds: number; requests: number; byMethod: Record<string, number> };
  migration: { seconds: number; idealSeconds: number; complete: number; managed: number; siteBRssMB: number };
  deadPeer: { seconds: number; targetSeconds: number };
}

const PASSWORD_B64 = Buffer.from('St8rlingX*').toString('base64');

export async function benchGeo(o: GeoOptions): Promise<GeoResults> {
  const n = o.subclouds;
  const work = mkdtempSync(join(tmpdir(), 'fleetledger-bench-geo-'));
  const valuesDir = join(work, 'values');
  const [agentPort, adminPort, portA, portB] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const procs: Proc[] = [];
  /** B's access log: every request it served, by method, while counting. */
  let counting = false;
  const byMethod: Record<string, number> = {};
  try {
    const sim = startProcess(
      'simulator',
      ['simulator/main.ts', '--subclouds', String(n), '--op-seconds', String(o.rehomeSeconds), '--output-dir', valuesDir,
        '--port', String(agentPort), '--admin-port', String(adminPort), '--initial-state', 'configured', '--quiet'],
      process.env,
      () => undefined,
    );
    procs.push(sim);
    await sim.waitFor((l) => l.startsWith('admin '), 300_000);
    const fleet = (await (await fetch(`http://127.0.0.1:${adminPort}/subclouds`)).json()) as {
      subclouds: { name: string; address: string; bootstrap_values: string | null }[];
    };
    const site = (name: 'a' | 'b', port: number, onLine: (l: string) => void) =>
      startProcess(`site-${name}`, ['main.ts'], {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: join(work, name),
        ADMIN_TOKEN: BENCH_TOKEN,
        SYSTEM_NAME: `site-${name}`,
        LOG_LEVEL: 'info',
        SUBCLOUD_AGENT_PORT: String(agentPort),
        SUBCLOUD_AUDIT_INTERVAL: '10',
        WORKFLOW_TIME_SCALE: '1',
      }, onLine);
    const a = site('a', portA, () => undefined);
    const b = site('b', portB, (line) => {
      if (!counting || !line.startsWith('{')) return;
      try {
        const rec = JSON.parse(line) as { msg?: string; method?: string };
        if (rec.msg === 'request' && rec.method) byMethod[rec.method] = (byMethod[rec.method] ?? 0) + 1;
      } catch {
        // not a log line
      }
    });
    procs.push(a, b);
    await Promise.all([a.waitFor((l) => l.includes('listening'), 60_000), b.waitFor((l) => l.includes('listening'), 60_000)]);
    const A = `http://127.0.0.1:${portA}`;
    const B = `http://127.0.0.1:${portB}`;
    const { headers, json, form, until } = siteClient(o);

    // ---- setup ----
    let t = performance.now();
    o.say(`setup: site A takes over ${n} subclouds`);
    await pool(fleet.subclouds, o.clientConcurrency, (s) =>
      form(A, 'POST', '/v1.0/subclouds', { 'bootstrap-address': s.address, migrate: 'true', sysadmin_password: PASSWORD_B64 }, { bootstrap_values: readFileSync(s.bootstrap_values!, 'utf8') }),
    );
    const list = async (base: string) => (await json(base, 'GET', '/v1.0/subclouds')).subclouds as Record<string, string>[];
    await until('A: all complete and online', async () => (await list(A)).filter((s) => s['deploy-status'] === 'complete' && s['availability-status'] === 'online').length === n, 1_000);
    await json(A, 'POST', '/v1.0/subcloud-peer-groups', { 'peer-group-name': 'pg1', 'max-subcloud-rehoming': o.maxSubcloudRehoming });
    await pool(fleet.subclouds, o.clientConcurrency, async (s) => {
      await form(A, 'PATCH', `/v1.0/subclouds/${s.name}`, { 'management-state': 'managed' });
      await form(A, 'PATCH', `/v1.0/subclouds/${s.name}`, { peer_group: 'pg1', bootstrap_address: s.address }, { bootstrap_values: readFileSync(s.bootstrap_values!, 'utf8') });
    });
    const peerUser = async (base: string, name: string, password: string) => {
      const user = await json(base, 'POST', '/v3/users', { user: { name, password } });
      for (const role of ['admin', 'peer']) await fetch(`${base}/v3/projects/admin/users/${user.user.id}/roles/${role}`, { method: 'PUT', headers });
    };
    await peerUser(A, 'site-b', 'b-at-a-password');
    await peerUser(B, 'site-a', 'a-at-b-password');
    const uuid = async (base: string) => (await json(base, 'GET', '/v1/isystems')).isystems[0].uuid as string;
    const systemPeer = (target: string, name: string, user: string, password: string, targetUuid: string) => ({
      peer_uuid: targetUuid,
      peer_name: name,
      manager_endpoint: `${target}/v3`,
      manager_username: user,
      manager_password: Buffer.from(password).toString('base64'),
      peer_controller_gateway_address: '192.168.204.101',
      heartbeat_interval: o.heartbeatInterval,
      heartbeat_failure_threshold: o.heartbeatFailureThreshold,
    });
    const peerAtA = await json(A, 'POST', '/v1.0/system-peers', systemPeer(B, 'site-b', 'site-a', 'a-at-b-password', await uuid(B)));
    await json(B, 'POST', '/v1.0/system-peers', systemPeer(A, 'site-a', 'site-b', 'b-at-a-password', await uuid(A)));
    const setupSeconds = seconds(t);
    o.say(`setup done in ${setupSeconds.toFixed(0)} s`);

    // ---- sync ----
    counting = true;
    t = performance.now();
    await json(A, 'POST', '/v1.0/peer-group-associations', { peer_group_id: 1, system_peer_id: peerAtA.id, peer_group_priority: 2 });
    const association = async (base: string) => ((await json(base, 'GET', '/v1.0/peer-group-associations')).peer_group_associations as Record<string, string>[])[0];
    await until('sync: A in-sync', async () => {
      const x = await association(A);
      if (x?.['sync-status'] === 'failed') throw new Error(`sync failed: ${JSON.stringify(x)}`);
      return x?.['sync-status'] === 'in-sync';
    }, 200);
    const syncSeconds = seconds(t);
    counting = false;
    const requests = Object.values(byMethod).reduce((x, y) => x + y, 0);
    o.say(`sync of ${n} subclouds: ${syncSeconds.toFixed(1)} s, ${requests} requests served by B`);

    // ---- migration ----
    t = performance.now();
    await json(B, 'PATCH', '/v1.0/subcloud-peer-groups/pg1/migrate', { sysadmin_password: PASSWORD_B64 });
    await until('migration complete on B', async () => (await json(B, 'GET', '/v1.0/subcloud-peer-groups/pg1')).migration_status === 'complete', 200);
    const migrationSeconds = seconds(t);
    const members = (await json(B, 'GET', '/v1.0/subcloud-peer-groups/pg1/subclouds')).subclouds as Record<string, string>[];
    const complete = members.filter((s) => s['deploy-status'] === 'complete').length;
    const managed = members.filter((s) => s['management-state'] === 'managed').length;
    const idealSeconds = (n / o.maxSubcloudRehoming) * o.rehomeSeconds;
    o.say(`migration: ${migrationSeconds.toFixed(1)} s (ideal ${idealSeconds} s), ${complete} complete, ${managed} managed`);
    const siteBRssMB = rssMB(b.child.pid);

    // ---- dead peer ----
    const peerAtB = async () => ((await json(B, 'GET', '/v1.0/system-peers')).system_peers as Record<string, string>[])[0]!;
    await until('B sees A available', async () => (await peerAtB())['availability-state'] === 'available', 200);
    t = performance.now();
    a.child.kill('SIGKILL');
    await until('B sees A unavailable', async () => (await peerAtB())['availability-state'] === 'unavailable', 100);
    const deadSeconds = seconds(t);
    o.say(`dead peer detected in ${deadSeconds.toFixed(1)} s`);

    return {
      subclouds: n,
      maxSubcloudRehoming: o.maxSubcloudRehoming,
      rehomeSeconds: o.rehomeSeconds,
      setupSeconds,
      sync: { seconds: syncSeconds, requests, byMethod: { ...byMethod } },
      migration: { seconds: migrationSeconds, idealSeconds, complete, managed, siteBRssMB },
      deadPeer: { seconds: deadSeconds, targetSeconds: o.heartbeatFailureThreshold * o.heartbeatInterval + 1 },
    };
  } finally {
    for (const p of procs.reverse()) await p.stop().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}
