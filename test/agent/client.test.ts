// The subcloud agent client against the in-process fleet simulator. Operations run on a manual clock that the
// client's injected sleep advances, so nothing here waits for an operation's duration.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentOrigin, subcloudAgentClient } from '../../adapters/subcloudAgent/client.js';
import { ENDPOINT_TYPES } from '../../adapters/subcloudAgent/contract.js';
import { AgentError, AgentUnreachableError } from '../../adapters/subcloudAgent/errors.js';
import { manualClock } from '../../domain/core/clock.js';
import { startFleetSimulator, type FleetSimulator } from '../../simulator/fleet.js';

const PORT = 8120;
const clock = manualClock();
let fleet: FleetSimulator;
const sleeps: number[] = [];
// The client's waits move the simulator's clock instead of passing real time.
const client = subcloudAgentClient({
  port: PORT,
  timeouts: { connectMs: 500, headersMs: 1_000, bodyMs: 1_000 },
  sleep: async (ms) => {
    sleeps.push(ms);
    clock.advance(ms);
  },
});

const bootstrapParams = (name: string) => ({
  name,
  region_name: randomUUID().replaceAll('-', ''),
  system_mode: 'simplex',
  system_controller: { name: 'SystemController', address: '127.0.0.1', region_name: 'RegionOne' },
  external_oam_floating_address: '10.128.0.2',
});

const addr = (i: number) => fleet.subclouds[i]!.address;
const name = (i: number) => fleet.subclouds[i]!.name;
const count = (i: number, route: string) => fleet.subcloud(name(i))!.requests.byRoute[route] ?? 0;

beforeAll(async () => {
  fleet = await startFleetSimulator({
    subclouds: 8, baseAddress: '127.0.20.1', port: PORT, adminPort: 0, opDurationMs: 50, clock,
  });
});

afterAll(async () => {
  await client.close();
  await fleet?.stop();
});

describe('subcloud agent client', () => {
  it('reads system, health, endpoints and alarms', async () => {
    const sys = await client.system(addr(0));
    expect(sys).toMatchObject({ deploy_state: 'installed', system_mode: 'simplex', software_version: '24.03', name: null });
    expect(await client.health(addr(0))).toMatchObject({ status: 'healthy', running_operation: null });
    const eps = await client.endpoints(addr(0));
    expect(eps.map((e) => e.endpoint_type)).toEqual([...ENDPOINT_TYPES]);
    expect(new Set(eps.map((e) => e.sync_status))).toEqual(new Set(['unknown']));
    expect(await client.alarms(addr(0))).toEqual({
      critical_alarms: 0, major_alarms: 0, minor_alarms: 0, warnings: 0, cloud_status: 'OK',
    });
    await fleet.setFaults(name(0), { alarms: { critical: 0, major: 2, minor: 1, warnings: 3 } });
    expect(await client.alarms(addr(0))).toMatchObject({ major_alarms: 2, cloud_status: 'degraded' });
    await fleet.clearFaults(name(0));
  });

  it('formats IPv6 literals in brackets', () => {
    expect(agentOrigin('::1', 8120)).toBe('http://[::1]:8120');
    expect(agentOrigin('[fd00::5]', 8120)).toBe('http://[fd00::5]:8120');
    expect(agentOrigin('127.0.10.1', 8120)).toBe('http://127.0.10.1:8120');
    expect(() => agentOrigin('a/b', 8120)).toThrow(TypeError);
  });

  it('starts an operation once per id; a repeat returns it, a different body with the id is a conflict', async () => {
    const id = randomUUID();
    const op = { id, kind: 'bootstrap' as const, params: bootstrapParams(name(1)) };
    const first = await client.startOperation(addr(1), op);
    expect(first).toMatchObject({ id, kind: 'bootstrap', state: 'running', created: true });
    expect(first.progress.percent).toBe(0);
    const again = await client.startOperation(addr(1), op);
    expect(again).toMatchObject({ id, created: false });
    expect(fleet.subcloud(name(1))!.operations.size).toBe(1);
    await expect(client.startOperation(addr(1), { ...op, kind: 'config', params: {} }))
      .rejects.toMatchObject({ name: 'AgentError', status: 409, code: 'id_conflict' });
    // One at a time: another id while it runs.
    await expect(client.startOperation(addr(1), { id: randomUUID(), kind: 'config', params: {} }))
      .rejects.toMatchObject({ status: 409, code: 'operation_in_progress', details: { running_id: id } });
    clock.advance(50);
    expect((await client.operation(addr(1), id)).state).toBe('succeeded');
  });

  it('reports progress step by step, then the result; the system info follows', async () => {
    const id = randomUUID();
    await client.startOperation(addr(2), { id, kind: 'bootstrap', params: bootstrapParams('edge-2') });
    const seen: number[] = [];
    const done = await client.waitForOperation(addr(2), id, { pollMs: 10, onProgress: (op) => seen.push(op.progress.percent) });
    expect(seen).toEqual([0, 20, 40, 60, 80, 100]);
    expect(done).toMatchObject({ state: 'succeeded', result: { name: 'edge-2', system_mode: 'simplex' }, error: null });
    expect(await client.system(addr(2))).toMatchObject({ name: 'edge-2', deploy_state: 'bootstrapped' });
    // then config: endpoints become in-sync
    const cfg = randomUUID();
    await client.startOperation(addr(2), { id: cfg, kind: 'config', params: {} });
    expect((await client.waitForOperation(addr(2), cfg, { pollMs: 25 })).state).toBe('succeeded');
    expect(new Set((await client.endpoints(addr(2))).map((e) => e.sync_status))).toEqual(new Set(['in-sync']));
  });

  it('a failed operation resolves as failed with the error; the state stays', async () => {
    await fleet.setFaults(name(3), { failOperation: 'bootstrap' });
    const id = randomUUID();
    await client.startOperation(addr(3), { id, kind: 'bootstrap', params: bootstrapParams('x') });
    const op = await client.waitForOperation(addr(3), id, { pollMs: 10 });
    expect(op.state).toBe('failed');
    expect(op.error).toMatchObject({ code: 'operation_failed' });
    expect(op.error!.message).toContain('running the bootstrap playbook');
    expect(op.progress.percent).toBe(40);
    expect((await client.system(addr(3))).deploy_state).toBe('installed');
    await fleet.clearFaults(name(3));
  });

  it('a state that does not allow the kind is 409 invalid_state, not retried', async () => {
    const before = count(4, 'POST /v1/operations');
    await expect(client.startOperation(addr(4), { id: randomUUID(), kind: 'rehome', params: {
      system_controller: { name: 'sc2', address: '127.0.0.2' },
    } })).rejects.toMatchObject({ status: 409, code: 'invalid_state' });
    expect(count(4, 'POST /v1/operations') - before).toBe(1);
  });

  it('an agent slower than the headers timeout is unreachable (timeout), without waiting for it', async () => {
    await fleet.setFaults(name(4), { slowMs: 5_000 });
    const quick = subcloudAgentClient({ port: PORT, timeouts: { headersMs: 100 }, retries: 0 });
    const t0 = performance.now();
    const err = await quick.health(addr(4)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentUnreachableError);
    expect(err).toMatchObject({ reason: 'timeout', attempts: 1 });
    // undici checks headers/body timeouts on a coarse (~0.5 s) timer: well before the 5 s answer
    expect(performance.now() - t0).toBeLessThan(2_000);
    await quick.close();
    await fleet.clearFaults(name(4));
  });

  it('an unreachable agent fails fast as AgentUnreachableError (refused) after bounded retries', async () => {
    await fleet.setFaults(name(5), { unreachable: true });
    sleeps.length = 0;
    const t0 = performance.now();
    const err = await client.health(addr(5)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentUnreachableError);
    expect(err).toMatchObject({ reason: 'refused', attempts: 3, address: addr(5) });
    expect(sleeps).toEqual([200, 400]);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(count(5, 'GET /v1/health')).toBe(0);
    // An address nobody listens on at all (a wrong bootstrap address).
    await expect(client.system('127.0.20.250', { retries: 0 })).rejects.toMatchObject({ name: 'AgentUnreachableError', reason: 'refused' });
    await fleet.clearFaults(name(5));
    expect((await client.health(addr(5))).status).toBe('healthy');
  });

  it('retries 503 on a GET, never a 500 or a 404', async () => {
    const before = count(6, 'GET /v1/health');
    await fleet.setFaults(name(6), { errorResponses: { status: 503, count: 2 } });
    expect((await client.health(addr(6))).status).toBe('healthy');
    expect(count(6, 'GET /v1/health') - before).toBe(3);

    await fleet.setFaults(name(6), { errorResponses: { status: 503, count: 5 } });
    await expect(client.health(addr(6))).rejects.toMatchObject({ name: 'AgentError', status: 503, code: 'unavailable' });
    expect(count(6, 'GET /v1/health') - before).toBe(6);
    await fleet.clearFaults(name(6));

    await fleet.setFaults(name(6), { errorResponses: { status: 500, count: 1 } });
    await expect(client.system(addr(6))).rejects.toMatchObject({ status: 500 });
    expect(count(6, 'GET /v1/system')).toBe(1);

    const unknown = randomUUID();
    await expect(client.operation(addr(6), unknown)).rejects.toSatisfy((e) => e instanceof AgentError && e.code === 'not_found');
    expect(count(6, 'GET /v1/operations/{id}')).toBe(1);
  });

  it('retries POST /v1/operations after a lost answer: the operation runs once', async () => {
    await fleet.setFaults(name(7), { dropResponses: 1 });
    const id = randomUUID();
    const op = await client.startOperation(addr(7), { id, kind: 'bootstrap', params: bootstrapParams('drop') });
    expect(op).toMatchObject({ id, created: false });
    expect(count(7, 'POST /v1/operations')).toBe(2);
    expect(fleet.subcloud(name(7))!.operations.size).toBe(1);
    clock.advance(50);
    expect((await client.operation(addr(7), id)).state).toBe('succeeded');
    expect((await client.operations(addr(7))).map((o) => o.id)).toEqual([id]);
  });

  it('pools connections: at most connectionsPerOrigin per subcloud, reused', async () => {
    const server = fleet.subcloud(name(0))!.server!;
    let connections = 0;
    const onConnection = () => connections++;
    server.on('connection', onConnection);
    const pooled = subcloudAgentClient({ port: PORT, connectionsPerOrigin: 2 });
    await Promise.all(Array.from({ length: 20 }, () => pooled.health(addr(0))));
    await Promise.all(Array.from({ length: 20 }, () => pooled.alarms(addr(0))));
    server.off('connection', onConnection);
    expect(connections).toBeGreaterThan(0);
    expect(connections).toBeLessThanOrEqual(2);
    await pooled.close();
  });

  it('an interrupted operation (agent restart) reads failed/interrupted', async () => {
    const id = randomUUID();
    await client.startOperation(addr(0), { id, kind: 'install', params: {
      bmc_address: addr(0), bmc_username: 'root', bmc_password: Buffer.from('pw').toString('base64'), software_version: '24.09',
    } });
    clock.advance(25);
    await fleet.restart(name(0));
    const op = await client.operation(addr(0), id);
    expect(op).toMatchObject({ state: 'failed', error: { code: 'interrupted' } });
  });
});

describe('long poll (real clock)', () => {
  let real: FleetSimulator;
  beforeAll(async () => {
    real = await startFleetSimulator({ subclouds: 1, baseAddress: '127.0.21.1', port: PORT, adminPort: 0, opDurationMs: 100 });
  });
  afterAll(() => real?.stop());

  it('?wait holds each poll until the step changes', async () => {
    const c = subcloudAgentClient({ port: PORT });
    const a = real.subclouds[0]!.address;
    const id = randomUUID();
    await c.startOperation(a, { id, kind: 'config', params: {} }).catch((e: unknown) => e);
    // 'installed' does not allow config: bootstrap first
    const b = randomUUID();
    await c.startOperation(a, { id: b, kind: 'bootstrap', params: bootstrapParams('lp') });
    const seen: string[] = [];
    const op = await c.waitForOperation(a, b, { pollMs: 5_000, longPollMs: 2_000, onProgress: (o) => seen.push(o.progress.step) });
    expect(op.state).toBe('succeeded');
    expect(seen.length).toBeGreaterThanOrEqual(3);
    // each poll came back on a change, never sleeping the 5 s poll interval
    expect(real.subcloud(real.subclouds[0]!.name)!.requests.byRoute['GET /v1/operations/{id}']).toBeLessThanOrEqual(7);
    await c.close();
  });
});
