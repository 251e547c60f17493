// The CLI end to end against a site's SQLite store: in-process through runCli, and as a real child process.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../api/cli/run.js';
import { usage } from '../../api/cli/args.js';
import { COLLECTIONS } from '../../domain/distcloud/collections.js';
import { startTestSite, type TestSite } from '../support/site.js';

const ROOT = join(import.meta.dirname, '../..');

let t: TestSite;
let alpha: number;
let beta: number;
const emptyDir = mkdtempSync(join(tmpdir(), 'fleetledger-cli-empty-'));

/** Runs the CLI in this process, against the test site's data directory unless told otherwise. */
async function cli(argv: string[], env: Record<string, string> = { DATA_DIR: t.dataDir, LOG_LEVEL: 'silent' }) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    env,
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s), isTTY: false },
  });
  return { code, stdout, stderr };
}

/** Runs `node --import tsx api/cli/index.ts ...` as a child process. */
function child(argv: string[], env: Record<string, string>) {
  const base = { ...process.env };
  for (const k of ['DATA_DIR', 'EVENT_STORE', 'READ_STORE', 'PORT', 'HOST', 'ADMIN_TOKEN', 'LOG_LEVEL']) delete base[k];
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'api/cli/index.ts', ...argv], {
      cwd: ROOT,
      env: { ...base, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c) => (stdout += c));
    p.stderr.on('data', (c) => (stderr += c));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  t = await startTestSite();
  t.clock.set('2026-05-01T09:00:00.000Z');
  const create = (name: string, description: string, correlationId: string) =>
    t.call(
      'POST',
      '/v1.0/subcloud-groups',
      { name, description, update_apply_type: 'parallel', max_parallel_subclouds: 3 },
      { 'x-correlation-id': correlationId },
    );
  alpha = (await create('alpha', 'first', 'cli-create-alpha')).json.id;
  t.clock.set('2026-05-01T10:00:00.000Z');
  await t.call('PATCH', `/v1.0/subcloud-groups/${alpha}`, { description: 'second' }, { 'x-correlation-id': 'cli-edit-alpha-1' });
  t.clock.set('2026-05-01T11:00:00.000Z');
  await t.call('PATCH', `/v1.0/subcloud-groups/${alpha}`, { description: 'third' }, { 'x-correlation-id': 'cli-edit-alpha-2' });
  beta = (await create('beta', 'b', 'cli-create-beta')).json.id;
});
afterAll(async () => {
  await t.stop();
  rmSync(emptyDir, { recursive: true, force: true });
});

describe('cli history', () => {
  it('prints a stream as a table: types and correlation ids in order', async () => {
    const r = await cli(['history', `subcloudGroup-${alpha}`]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const [header, ...rows] = r.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^REV\s+POSITION\s+OCCURRED AT\s+TYPE\s+ACTOR\s+CORRELATION ID\s+DATA$/);
    expect(rows).toHaveLength(3);
    const cells = rows.map((row) => row.split(/\s{2,}/));
    expect(cells.map((c) => c[0])).toEqual(['0', '1', '2']);
    expect(cells.map((c) => c[3])).toEqual(['SubcloudGroupAdded', 'SubcloudGroupUpdated', 'SubcloudGroupUpdated']);
    expect(cells.map((c) => c[5])).toEqual(['cli-create-alpha', 'cli-edit-alpha-1', 'cli-edit-alpha-2']);
    expect(cells.map((c) => c[2])).toEqual(['2026-05-01T09:00:00.000Z', '2026-05-01T10:00:00.000Z', '2026-05-01T11:00:00.000Z']);
    expect(rows[1]).toContain('"description":"second"');
  });

  it('--json prints one line per event, exactly as GET /history/streams/{stream}', async () => {
    const r = await cli(['history', `subcloudGroup-${alpha}`, '--json']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    const api = await t.call('GET', `/history/streams/subcloudGroup-${alpha}`);
    expect(api.status).toBe(200);
    expect(lines).toEqual(api.json.events);
  });

  it('--backwards, --from-revision and --limit page like the API', async () => {
    const r = await cli(['history', `subcloudGroup-${alpha}`, '--json', '--backwards', '--limit', '2']);
    const api = await t.call('GET', `/history/streams/subcloudGroup-${alpha}?direction=backwards&limit=2`);
    expect(r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual(api.json.events);
    expect(api.json.events.map((e: any) => e.revision)).toEqual([2, 1]);
    const from = await cli(['history', `subcloudGroup-${alpha}`, '--json', '--from-revision', '1', '--limit', '1']);
    expect(from.stdout.trimEnd().split('\n').map((l) => JSON.parse(l).revision)).toEqual([1]);
    // Past the end of an existing stream: nothing, and no error (as the API's empty last page).
    const past = await cli(['history', `subcloudGroup-${alpha}`, '--json', '--from-revision', '9']);
    expect(past).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('a stream without events is not found: exit 1', async () => {
    const r = await cli(['history', 'subcloudGroup-424242']);
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'fleetledger: Stream subcloudGroup-424242 not found\n' });
  });
});

describe('cli state', () => {
  it('--at-revision 0 shows the first description, in the shape of the API', async () => {
    const r = await cli(['state', 'subcloudGroup', String(alpha), '--at-revision', '0']);
    expect(r.code).toBe(0);
    const state = JSON.parse(r.stdout);
    expect(state).toMatchObject({
      aggregate: 'subcloudGroup',
      id: String(alpha),
      stream: `subcloudGroup-${alpha}`,
      revision: 0,
      occurredAt: '2026-05-01T09:00:00.000Z',
    });
    expect(JSON.stringify(state.state)).toContain('"description":"first"');
    expect(r.stdout).toBe(JSON.stringify(state, null, 2) + '\n');
    const api = await t.call('GET', `/history/subcloudGroup/${alpha}/state?atRevision=0`);
    expect(state).toEqual(api.json);
  });

  it('now and --at-time match the API', async () => {
    for (const [args, query] of [
      [[], ''],
      [['--at-time', '2026-05-01T10:30:00Z'], '?atTime=2026-05-01T10:30:00Z'],
    ] as const) {
      const r = await cli(['state', 'subcloudGroup', String(alpha), ...args]);
      const api = await t.call('GET', `/history/subcloudGroup/${alpha}/state${query}`);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(api.json);
    }
    const at = JSON.parse((await cli(['state', 'subcloudGroup', String(alpha), '--at-time', '2026-05-01T10:30:00Z'])).stdout);
    expect(at.revision).toBe(1);
    expect(JSON.stringify(at.state)).toContain('"description":"second"');
  });

  it('refuses as the API does: unknown aggregate, no events, a moment before the first event (exit 1)', async () => {
    const cases = [
      { argv: ['state', 'spaceship', '1'], path: '/history/spaceship/1/state', status: 404 },
      { argv: ['state', 'subcloudGroup', '424242'], path: '/history/subcloudGroup/424242/state', status: 404 },
      {
        argv: ['state', 'subcloudGroup', String(alpha), '--at-time', '2020-01-01T00:00:00Z'],
        path: `/history/subcloudGroup/${alpha}/state?atTime=2020-01-01T00:00:00Z`,
        status: 400,
      },
    ];
    for (const c of cases) {
      const r = await cli(c.argv);
      const api = await t.call('GET', c.path);
      expect(api.status).toBe(c.status);
      expect(r).toEqual({ code: 1, stdout: '', stderr: `fleetledger: ${api.json.error.message}\n` });
    }
    expect((await cli(['state', 'spaceship', '1'])).stderr).toBe('fleetledger: Unknown aggregate spaceship\n');
  });
});

describe('cli rebuild', () => {
  it('replays every event and prints the summary with documents per collection', async () => {
    const r = await cli(['rebuild']);
    expect(r.code).toBe(0);
    const events = (await t.site.eventStore.readAll()).length;
    const groups = await t.site.readStore.count(COLLECTIONS.subcloudGroups);
    expect(groups).toBe(3); // Default, alpha, beta
    expect(r.stdout).toMatch(new RegExp(`^rebuild: replayed ${events} events in \\d+\\.\\d+ s \\([\\d,∞]+ events/s\\); documents: `));
    expect(r.stdout).toContain(`${COLLECTIONS.subcloudGroups}=${groups}`);
    // Off a terminal, progress is one line per tenth on stderr; the whole log fits in one page here.
    expect(r.stderr).toMatch(/^rebuild: 100% \(\d+ events, \d+\.\d+ s\)\n$/);
    expect(beta).toBeGreaterThan(alpha);
  });
});

describe('cli usage, configuration and missing stores', () => {
  it('help prints the usage on stdout, exit 0', async () => {
    expect(await cli(['help'], {})).toEqual({ code: 0, stdout: usage(), stderr: '' });
    expect(await cli(['state', '--help'], {})).toEqual({ code: 0, stdout: usage('state'), stderr: '' });
  });

  it('a usage error prints the error and the usage on stderr, exit 2', async () => {
    expect(await cli(['frobnicate'])).toEqual({ code: 2, stdout: '', stderr: `fleetledger: unknown command "frobnicate"\n\n${usage()}` });
    const r = await cli(['history', 'x', '--limit', 'many']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`fleetledger: --limit must be an integer, got "many"\n\n${usage('history')}`);
  });

  it('an invalid configuration exits 2 with the message', async () => {
    const r = await cli(['rebuild'], { DATA_DIR: t.dataDir, READ_STORE: 'postgres' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^fleetledger: invalid configuration:\n {2}READ_STORE: /);
  });

  it('a DATA_DIR without an event store exits 1 and creates nothing', async () => {
    const dir = join(emptyDir, 'in-process');
    for (const argv of [['history', 'subcloudGroup-1'], ['state', 'subcloudGroup', '1'], ['rebuild']]) {
      const r = await cli(argv, { DATA_DIR: dir });
      expect(r).toEqual({
        code: 1,
        stdout: '',
        stderr: `fleetledger: no event store at ${join(dir, 'events.sqlite')} (DATA_DIR=${dir})\n`,
      });
    }
    expect(existsSync(dir)).toBe(false);
  });
});

describe('cli as a child process', () => {
  it('history, while the site holds the store open', async () => {
    const r = await child(['history', `subcloudGroup-${alpha}`, '--json'], { DATA_DIR: t.dataDir, LOG_LEVEL: 'silent' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const api = await t.call('GET', `/history/streams/subcloudGroup-${alpha}`);
    expect(r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual(api.json.events);
  });

  it('unknown command: exit 2 with the usage; missing store: exit 1, no file created', async () => {
    const [unknown, missing] = await Promise.all([
      child(['frobnicate'], { DATA_DIR: t.dataDir, LOG_LEVEL: 'silent' }),
      child(['rebuild'], { DATA_DIR: emptyDir, LOG_LEVEL: 'silent' }),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    expect(unknown.stderr).toContain('usage: npm run cli -- <command>');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`fleetledger: no event store at ${join(emptyDir, 'events.sqlite')} (DATA_DIR=${emptyDir})\n`);
    expect(existsSync(join(emptyDir, 'events.sqlite'))).toBe(false);
  });
});
