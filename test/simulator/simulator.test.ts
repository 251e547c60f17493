// The fleet simulator itself: distinct loopback listeners, the admin API's fault injection, unreachable as a
// real refused connection, agent restarts, and the generated bootstrap values.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ipaddr from 'ipaddr.js';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { manualClock } from '../../domain/core/clock.js';
import { startFleetSimulator, type FleetSimulator } from '../../simulator/fleet.js';

const PORT = 8120;
const N = 24;
const clock = manualClock();
const dispatcher = new Agent({ connections: 4, keepAliveTimeout: 1_000 });
let fleet: FleetSimulator;
let outputDir: string;

async function call(url: string, method = 'GET', body?: unknown) {
  const res = await request(url, {
    method: method as 'GET', dispatcher,
    ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, json: text ? JSON.parse(text) as any : undefined };
}
const agent = (i: number, path: string, method = 'GET', body?: unknown) =>
  call(`http://${fleet.subclouds[i]!.address}:${PORT}${path}`, method, body);
const admin = (path: string, method = 'GET', body?: unknown) => call(`${fleet.adminUrl}${path}`, method, body);

/** Resolves 'connected' or the connect error's code, with a fresh TCP connection. */
const tcp = (address: string) => new Promise<string>((resolve) => {
  const s = connect({ host: address, port: PORT });
  s.once('connect', () => {
    s.destroy();
    resolve('connected');
  });
  s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
});

beforeAll(async () => {
  outputDir = mkdtempSync(join(tmpdir(), 'fleetledger-sim-test-'));
  // From .250 so the allocation crosses a .255/.0 boundary.
  fleet = await startFleetSimulator({
    subclouds: N, baseAddress: '127.0.30.250', port: PORT, adminPort: 0, opDurationMs: 40, clock, outputDir,
    systemMode: 'mixed', initialState: (i) => (i === 0 ? 'configured' : 'installed'),
  });
});

afterAll(async () => {
  await dispatcher.close();
  await fleet?.stop();
  if (outputDir) rmSync(outputDir, { recursive: true, force: true });
});

describe('fleet simulator', () => {
  it('serves every subcloud on its own loopback address, sequentially allocated', async () => {
    const addresses = fleet.subclouds.map((s) => s.address);
    expect(new Set(addresses).size).toBe(N);
    expect(addresses.slice(0, 7)).toEqual(['127.0.30.250', '127.0.30.251', '127.0.30.252', '127.0.30.253', '127.0.30.254', '127.0.31.1', '127.0.31.2']);
    for (const a of addresses) expect(ipaddr.parse(a).match(ipaddr.parseCIDR('127.0.0.0/8'))).toBe(true);
    const systems = await Promise.all(fleet.subclouds.map((_, i) => agent(i, '/v1/system')));
    expect(systems.every((r) => r.status === 200)).toBe(true);
    expect(new Set(systems.map((r) => r.json.uuid)).size).toBe(N);
    expect(systems[0]!.json).toMatchObject({ deploy_state: 'configured', name: fleet.subclouds[0]!.name });
    expect(systems[3]!.json.system_mode).toBe('duplex');
    // each listener is bound to its address only: one address's agent counts only its own requests
    expect(fleet.subcloud(fleet.subclouds[5]!.name)!.requests.byRoute['GET /v1/system']).toBe(1);
  });

  it('the admin API lists the fleet and one subcloud', async () => {
    const all = await admin('/subclouds');
    expect(all.status).toBe(200);
    expect(all.json.subclouds).toHaveLength(N);
    expect(all.json.subclouds[1]).toMatchObject({ name: 'subcloud2', address: '127.0.30.251', port: PORT, listening: true });
    const one = await admin('/subclouds/subcloud2');
    expect(one.json).toMatchObject({ name: 'subcloud2', deploy_state: 'installed', operations: [] });
    expect((await admin('/subclouds/nope')).status).toBe(404);
    expect((await admin('/subclouds/subcloud2/faults', 'POST', { slowMs: -1 })).status).toBe(400);
  });

  it('injects alarms, health, sync status and slowness through the admin API; DELETE clears them', async () => {
    const r = await admin('/subclouds/subcloud1/faults', 'POST', {
      alarms: { critical: 1, major: 2, minor: 3, warnings: 4 }, health: 'degraded', syncStatus: { 'dc-cert': 'out-of-sync' },
    });
    expect(r.status).toBe(200);
    expect(r.json.faults).toMatchObject({ health: 'degraded' });
    expect((await agent(0, '/v1/alarms')).json).toEqual({
      critical_alarms: 1, major_alarms: 2, minor_alarms: 3, warnings: 4, cloud_status: 'critical',
    });
    expect((await agent(0, '/v1/health')).json.status).toBe('degraded');
    const eps = (await agent(0, '/v1/endpoints')).json.endpoint_sync_status;
    expect(eps.find((e: any) => e.endpoint_type === 'dc-cert').sync_status).toBe('out-of-sync');
    expect(eps.find((e: any) => e.endpoint_type === 'platform').sync_status).toBe('in-sync');

    await admin('/subclouds/subcloud1/faults', 'POST', { slowMs: 150 });
    const t0 = performance.now();
    await agent(0, '/v1/health');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);

    expect((await admin('/subclouds/subcloud1/faults', 'DELETE')).json.faults).toEqual({});
    expect((await agent(0, '/v1/alarms')).json.cloud_status).toBe('OK');
    expect((await agent(0, '/v1/health')).json.status).toBe('healthy');
  });

  it('unreachable really refuses connections (and drops open ones) until cleared', async () => {
    const a = fleet.subclouds[2]!.address;
    expect(await tcp(a)).toBe('connected');
    await agent(2, '/v1/health'); // leaves a keep-alive connection in the pool
    const r = await admin('/subclouds/subcloud3/faults', 'POST', { unreachable: true });
    expect(r.json.listening).toBe(false);
    expect(await tcp(a)).toBe('ECONNREFUSED');
    await expect(agent(2, '/v1/health')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    // its neighbours are unaffected
    expect(await tcp(fleet.subclouds[3]!.address)).toBe('connected');
    await admin('/subclouds/subcloud3/faults', 'DELETE');
    expect(await tcp(a)).toBe('connected');
    expect((await agent(2, '/v1/health')).status).toBe(200);
  });

  it('failOperation makes that kind fail; other kinds still run', async () => {
    await admin('/subclouds/subcloud4/faults', 'POST', { failOperation: 'bootstrap' });
    const id = randomUUID();
    const params = { name: 'x', region_name: 'r1', system_mode: 'simplex', system_controller: { name: 'SystemController', address: '127.0.0.1' } };
    const started = await agent(3, '/v1/operations', 'POST', { id, kind: 'bootstrap', params });
    expect(started.status).toBe(202);
    expect(started.headers.location).toBe(`/v1/operations/${id}`);
    expect((await agent(3, '/v1/operations', 'POST', { id, kind: 'bootstrap', params })).status).toBe(200);
    clock.advance(40);
    const op = (await agent(3, `/v1/operations/${id}`)).json;
    expect(op).toMatchObject({ state: 'failed', error: { code: 'operation_failed' } });
    expect((await agent(3, '/v1/system')).json.deploy_state).toBe('installed');
    const install = await agent(3, '/v1/operations', 'POST', { id: randomUUID(), kind: 'install', params: {
      bmc_address: '127.0.31.4', bmc_username: 'root', bmc_password: 'cHc=', software_version: '25.09',
    } });
    expect(install.status).toBe(202);
    clock.advance(40);
    expect((await agent(3, '/v1/system')).json).toMatchObject({ deploy_state: 'installed', software_version: '25.09' });
    await admin('/subclouds/subcloud4/faults', 'DELETE');
  });

  it('validates operation requests and answers the contract error format', async () => {
    const bad = await agent(4, '/v1/operations', 'POST', { id: 'not-a-uuid', kind: 'install', params: {} });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ code: 'bad_request' });
    const missing = await agent(4, '/v1/operations', 'POST', { id: randomUUID(), kind: 'install', params: { bmc_address: 'x' } });
    expect(missing.status).toBe(400);
    expect(missing.json.error.message).toMatch(/^params\.bmc_username/);
    const state = await agent(4, '/v1/operations', 'POST', { id: randomUUID(), kind: 'config', params: {} });
    expect(state.status).toBe(409);
    expect(state.json.error.code).toBe('invalid_state');
    expect((await agent(4, '/v1/nope')).status).toBe(404);
    const wrong = await agent(4, '/v1/system', 'POST', {});
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('GET');
  });

  it('prestage fails its pre-check on management-affecting alarms unless forced; rehome records the new controller', async () => {
    await admin('/subclouds/subcloud1/faults', 'POST', { alarms: { major: 1 } });
    const id = randomUUID();
    await agent(0, '/v1/operations', 'POST', { id, kind: 'prestage-packages', params: { software_version: '25.09' } });
    clock.advance(40);
    expect((await agent(0, `/v1/operations/${id}`)).json.error.code).toBe('precondition_failed');
    for (const kind of ['prestage-packages', 'prestage-images']) {
      const pid = randomUUID();
      expect((await agent(0, '/v1/operations', 'POST', { id: pid, kind, params: { software_version: '25.09', force: true } })).status).toBe(202);
      clock.advance(40);
      expect((await agent(0, `/v1/operations/${pid}`)).json.state).toBe('succeeded');
    }
    expect((await agent(0, '/v1/system')).json.prestaged_versions).toEqual(['25.09']);
    const rid = randomUUID();
    const sc2 = { name: 'SystemController', address: '127.0.0.2', region_name: 'RegionTwo' };
    await agent(0, '/v1/operations', 'POST', { id: rid, kind: 'rehome', params: { system_controller: sc2 } });
    clock.advance(40);
    expect((await agent(0, '/v1/system')).json.system_controller).toMatchObject(sc2);
    await admin('/subclouds/subcloud1/faults', 'DELETE');
  });

  it('an agent restart interrupts the running operation and changes boot_time', async () => {
    const before = (await agent(5, '/v1/health')).json.boot_time;
    const id = randomUUID();
    await agent(5, '/v1/operations', 'POST', { id, kind: 'install', params: {
      bmc_address: 'bmc', bmc_username: 'root', bmc_password: 'cHc=', software_version: '24.09',
    } });
    clock.advance(10);
    expect((await admin('/subclouds/subcloud6/restart', 'POST')).status).toBe(200);
    const op = (await agent(5, `/v1/operations/${id}`)).json;
    expect(op).toMatchObject({ state: 'failed', error: { code: 'interrupted' } });
    expect((await agent(5, '/v1/health')).json.boot_time).not.toBe(before);
  });

  it('writes valid bootstrap values YAML with non-overlapping subnets', () => {
    const subnets: [ipaddr.IPv4, number][] = [];
    for (const s of fleet.subclouds) {
      expect(s.bootstrapValuesPath).toBeTruthy();
      const v = parse(readFileSync(s.bootstrapValuesPath!, 'utf8'));
      for (const k of ['name', 'system_mode', 'management_subnet', 'management_start_address', 'management_end_address',
        'management_gateway_address', 'systemcontroller_gateway_address', 'external_oam_subnet',
        'external_oam_gateway_address', 'external_oam_floating_address']) {
        expect(v[k], `${s.name} ${k}`).toBeTruthy();
      }
      expect(v.name).toBe(s.name);
      const mgmt = ipaddr.parseCIDR(v.management_subnet) as [ipaddr.IPv4, number];
      const oam = ipaddr.parseCIDR(v.external_oam_subnet) as [ipaddr.IPv4, number];
      for (const k of ['management_start_address', 'management_end_address', 'management_gateway_address']) {
        expect(ipaddr.parse(v[k]).match(mgmt), `${s.name} ${k}`).toBe(true);
      }
      expect(ipaddr.parse(v.external_oam_floating_address).match(oam)).toBe(true);
      expect(ipaddr.parse(v.systemcontroller_gateway_address).match(mgmt)).toBe(false);
      if (v.system_mode !== 'simplex') expect(v.external_oam_node_1_address).toBeTruthy();
      subnets.push(mgmt, oam);
      const install = parse(readFileSync(s.installValuesPath!, 'utf8'));
      expect(install).toMatchObject({ bootstrap_address: s.address, software_version: '24.03' });
    }
    const range = ([net, len]: [ipaddr.IPv4, number]) => {
      const start = net.toByteArray().reduce((n, b) => n * 256 + b, 0);
      return [start, start + 2 ** (32 - len) - 1] as const;
    };
    const ranges = subnets.map(range).sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]).toBeGreaterThan(ranges[i - 1]![1]);
  });
});
