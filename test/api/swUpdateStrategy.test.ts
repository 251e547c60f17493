// dcmanager's sw-update-strategy API (prestage) and PATCH /subclouds/{ref}/prestage's refusals, over HTTP, against a
// whole site with workflows off: a strategy is created, applied, aborted and deleted, and nothing runs it (the
// orchestrator has its own tests). Fleet: sc1..sc3 ready, sc4 offline, sc5 unmanaged, sc6 managed but not deployed,
// sc7 with a prestage running, sc8 ready again after a failed prestage;
// group east (serial, 3) = sc2, sc3, sc4; group west (parallel, 4) = sc1, sc5, sc8; Default = sc6, sc7.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { systemContext } from '../../commands/core/context.js';
import { addPrestageSubcloud, type PrestageSubcloud } from '../support/prestageSubclouds.js';
import { startTestSite, type TestSite } from '../support/site.js';

const RELEASE = '25.09';
const PASSWORD = 'Prest4ge-Str4tegy!';
const PASSWORD_B64 = Buffer.from(PASSWORD).toString('base64');
const STRATEGY = '/v1.0/sw-update-strategy';
const KEYS = ['id', 'type', 'subcloud-apply-type', 'max-parallel-subclouds', 'stop-on-failure', 'state', 'created-at', 'updated-at', 'extra-args'];
const STEP_KEYS = ['id', 'cloud', 'stage', 'state', 'details', 'started-at', 'finished-at', 'created-at', 'updated-at'];

const cannot = (verb: string, type: string, why: string) => `Unable to ${verb} strategy of type '${type}': ${why}`;
const badCreate = (why: string) => cannot('create', 'prestage', `Bad strategy request: ${why}`);
const ALREADY_EXISTS = badCreate("Strategy of type: 'prestage' already exists");

let t: TestSite;
const sc: Record<string, PrestageSubcloud> = {};
let eastId: number;
let westId: number;

const headPosition = () => t.site.eventStore.headPosition();
const settle = async () => t.site.runner.waitFor(await headPosition(), 10_000);
const prestage = (extra: Record<string, unknown> = {}) => ({ type: 'prestage', sysadmin_password: PASSWORD_B64, ...extra });
const create = (extra: Record<string, unknown> = {}) => t.call('POST', STRATEGY, prestage(extra));
const action = (name: string, query = '') => t.call('POST', `${STRATEGY}/actions${query}`, { action: name });
const steps = async () => {
  const r = await t.call('GET', `${STRATEGY}/steps`);
  expect(r.status, r.text).toBe(200);
  return r.json['strategy-steps'] as any[];
};
const clouds = async () => (await steps()).map((s) => s.cloud);

async function created(extra: Record<string, unknown> = {}) {
  const r = await create(extra);
  expect(r.status, r.text).toBe(200);
  return r.json;
}

/** Whatever strategy there is, gone (an aborted one brought to its end as the orchestrator would). */
async function clearStrategy() {
  const cur = await t.call('GET', STRATEGY);
  if (cur.status === 404) return;
  const id = cur.json.id as number;
  if (cur.json.state === 'applying') expect((await action('abort')).status).toBe(200);
  if (cur.json.state === 'applying' || cur.json.state === 'abort requested' || cur.json.state === 'aborting') {
    const ctx = () => systemContext(t.clock.now(), 'test');
    const at = t.clock.now().toISOString();
    await t.site.commands.strategies.record(id, { type: 'MarkStrategyAborting', at }, ctx());
    await t.site.commands.strategies.record(id, { type: 'FinishStrategy', failedSteps: 0, abortedSteps: 0, at }, ctx());
    await settle();
  }
  const r = await t.call('DELETE', STRATEGY);
  expect(r.status, r.text).toBe(200);
  expect((await t.call('GET', STRATEGY)).status).toBe(404);
}

/** Every event in the store as JSON text (bigints as strings). */
async function allEventsText() {
  const events = await t.site.eventStore.readAll();
  return JSON.stringify(events, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

beforeAll(async () => {
  t = await startTestSite({ env: { SOFTWARE_VERSION: RELEASE } });
  const states = ['ready', 'ready', 'ready', 'offline', 'unmanaged', 'undeployed', 'prestaging', 'prestageFailed'] as const;
  for (const [i, state] of states.entries()) {
    const s = await addPrestageSubcloud(t, i + 1, state);
    sc[s.name] = s;
  }
  const east = await t.call('POST', '/v1.0/subcloud-groups', { name: 'east', description: 'east sites', update_apply_type: 'serial', max_parallel_subclouds: 3 });
  expect(east.status, east.text).toBe(200);
  eastId = east.json.id;
  const west = await t.call('POST', '/v1.0/subcloud-groups', { name: 'west', description: 'west sites', update_apply_type: 'parallel', max_parallel_subclouds: 4 });
  expect(west.status, west.text).toBe(200);
  westId = west.json.id;
  for (const [name, group] of [['sc2', 'east'], ['sc3', 'east'], ['sc4', 'east'], ['sc1', 'west'], ['sc5', 'west'], ['sc8', 'west']] as const) {
    const r = await t.form('PATCH', `/v1.0/subclouds/${sc[name]!.id}`, { group_id: group === 'east' ? String(eastId) : 'west' });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
  }
  await settle();
});
afterAll(async () => t?.stop());

describe('the fleet under test', () => {
  it('has sc1..sc3 and sc8 ready, and sc4..sc7 each failing one initial prestage check', async () => {
    const view = async (name: string) => (await t.call('GET', `/v1.0/subclouds/${name}`)).json;
    for (const name of ['sc1', 'sc2', 'sc3']) {
      expect(await view(name)).toMatchObject({ 'availability-status': 'online', 'management-state': 'managed', 'deploy-status': 'complete' });
    }
    expect(await view('sc4')).toMatchObject({ 'availability-status': 'offline', 'management-state': 'managed', 'deploy-status': 'complete' });
    expect(await view('sc5')).toMatchObject({ 'availability-status': 'online', 'management-state': 'unmanaged', 'deploy-status': 'complete' });
    expect(await view('sc6')).toMatchObject({ 'availability-status': 'online', 'management-state': 'managed' });
    expect((await view('sc6'))['deploy-status']).not.toBe('complete');
    expect((await view('sc2')).group_id).toBe(eastId);
    expect((await view('sc1')).group_id).toBe(westId);
    expect((await view('sc6')).group_id).toBe(1);
    expect(await view('sc7')).toMatchObject({ 'availability-status': 'online', 'management-state': 'managed', 'prestage-status': 'prestaging-packages' });
    expect(await view('sc8')).toMatchObject({ 'availability-status': 'online', 'management-state': 'managed', 'prestage-status': 'failed' });
  });
});

describe('create and read', () => {
  beforeAll(clearStrategy);
  let strategy: any;

  it('creates a prestage strategy for all subclouds: 200, dcmanager keys, state initial, no password', async () => {
    t.clock.set('2026-03-02T08:00:00.125Z');
    const r = await create({ 'max-parallel-subclouds': '5' });
    expect(r.status, r.text).toBe(200);
    expect(Object.keys(r.json)).toEqual(KEYS);
    expect(r.json).toEqual({
      id: expect.any(Number),
      type: 'prestage',
      'subcloud-apply-type': null,
      'max-parallel-subclouds': 5,
      'stop-on-failure': false,
      state: 'initial',
      'created-at': '2026-03-02 08:00:00.125000',
      'updated-at': null,
      'extra-args': { force: false, 'prestage-software-version': RELEASE },
    });
    expect(Object.keys(r.json['extra-args']).sort()).toEqual(['force', 'prestage-software-version']);
    expect(r.text).not.toContain('sysadmin_password');
    expect(r.text).not.toContain(PASSWORD_B64);
    expect(r.text).not.toContain(PASSWORD);
    strategy = r.json;
  });

  it('serves it on GET, with ?type=prestage, and 404 for another type', async () => {
    const r = await t.call('GET', STRATEGY);
    expect(r.status).toBe(200);
    expect(r.json).toEqual(strategy);
    expect(r.text).not.toContain(PASSWORD_B64);
    expect((await t.call('GET', `${STRATEGY}?type=prestage`)).json).toEqual(strategy);
    const other = await t.call('GET', `${STRATEGY}?type=kubernetes`);
    expect(other.status).toBe(404);
    expect(other.json.error.message).toBe("Strategy of type 'kubernetes' not found");
  });

  it('lists one step per eligible subcloud (sc4 offline, sc5 unmanaged, sc6 not deployed, sc7 prestaging are excluded)', async () => {
    const all = await steps();
    expect(all.map((s) => s.cloud)).toEqual(['sc1', 'sc2', 'sc3', 'sc8']);
    for (const s of all) {
      expect(Object.keys(s)).toEqual(STEP_KEYS);
      expect(s).toEqual({
        id: sc[s.cloud]!.id,
        cloud: s.cloud,
        stage: 1,
        state: 'initial',
        details: '',
        'started-at': null,
        'finished-at': null,
        'created-at': '2026-03-02 08:00:00.125000',
        'updated-at': null,
      });
    }
  });

  it('serves one step by cloud name; 404 Strategy step not found otherwise', async () => {
    const one = await t.call('GET', `${STRATEGY}/steps/sc1`);
    expect(one.status).toBe(200);
    expect(one.json).toEqual((await steps())[0]);
    for (const cloud of ['nope', 'sc4', 'sc5', 'sc6', 'sc7', 'SystemController']) {
      const r = await t.call('GET', `${STRATEGY}/steps/${cloud}`);
      expect(r.status, cloud).toBe(404);
      expect(r.json.error.message).toBe('Strategy step not found');
    }
  });

  it('refuses a second create (any request) with 422 already exists, appending nothing', async () => {
    const head = await headPosition();
    for (const extra of [{}, { cloud_name: 'sc2' }, { subcloud_group: 'east' }, { force: 'true', 'max-parallel-subclouds': 3 }]) {
      const r = await create(extra);
      expect(r.status, JSON.stringify(extra)).toBe(422);
      expect(r.json.error.message).toBe(ALREADY_EXISTS);
    }
    expect(await headPosition()).toBe(head);
    expect((await t.call('GET', STRATEGY)).json).toEqual(strategy);
  });
});

describe('eligibility', () => {
  beforeEach(clearStrategy);

  it.each([
    ['sc4', "Prestage skipped 'sc4': Subcloud is offline."],
    ['sc5', "Prestage skipped 'sc5': Subcloud is not managed."],
    ['sc6', "Prestage skipped 'sc6': Prestage operation is not allowed when subcloud deploy is not completed."],
    [
      'sc7',
      "Prestage skipped 'sc7': Prestage operation is only allowed while subcloud prestage status is one of: failed, complete. The current prestage status is prestaging-packages.",
    ],
    ['nope', 'Subcloud nope does not exist'],
  ])('cloud_name %s: 422 and nothing appended', async (cloud, why) => {
    const head = await headPosition();
    const r = await create({ cloud_name: cloud });
    expect(r.status).toBe(422);
    expect(r.json.error.message).toBe(badCreate(why));
    expect(await headPosition()).toBe(head);
    expect((await t.call('GET', STRATEGY)).status).toBe(404);
  });

  it.each(['sc2', 'sc8'])('cloud_name of an eligible subcloud (%s): one step', async (cloud) => {
    const s = await created({ cloud_name: cloud });
    expect(s).toMatchObject({ 'subcloud-apply-type': null, 'max-parallel-subclouds': 2 });
    expect(await clouds()).toEqual([cloud]);
  });

  it('a group with no eligible subcloud: 422 Strategy has no steps to apply, nothing appended', async () => {
    const head = await headPosition();
    for (const body of [{ subcloud_group: 'Default' }, { subcloud_group: 1 }, { group: 'Default' }]) {
      const r = await create(body);
      expect(r.status, JSON.stringify(body)).toBe(422);
      expect(r.json.error.message).toBe(badCreate('Strategy has no steps to apply'));
    }
    expect(await headPosition()).toBe(head);
  });

  it.each([
    ['subcloud_group by name', () => ({ subcloud_group: 'east' })],
    ['subcloud_group by id', () => ({ subcloud_group: eastId })],
    ['subcloud_group by id as text', () => ({ subcloud_group: String(eastId) })],
    ['group by name', () => ({ group: 'east' })],
    ['group by id', () => ({ group: eastId })],
  ])('%s: the group eligible subclouds, with its apply type (serial: max 1)', async (_label, body) => {
    const s = await created(body());
    expect(s).toMatchObject({ 'subcloud-apply-type': 'serial', 'max-parallel-subclouds': 1, state: 'initial' });
    expect(await clouds()).toEqual(['sc2', 'sc3']);
  });

  it.each([
    ['by name', () => ({ subcloud_group: 'west' })],
    ['by id', () => ({ group: westId })],
  ])('a parallel group %s gives its max_parallel_subclouds', async (_label, body) => {
    const s = await created(body());
    expect(s).toMatchObject({ 'subcloud-apply-type': 'parallel', 'max-parallel-subclouds': 4 });
    expect(await clouds()).toEqual(['sc1', 'sc8']);
  });
});

describe('create: request checks', () => {
  beforeAll(clearStrategy);

  it('refuses malformed JSON with 400 Request body is malformed., appending nothing', async () => {
    const head = await headPosition();
    const r = await t.call('POST', STRATEGY, '{"type": "prestage",');
    expect(r.status).toBe(400);
    expect(r.json.error.message).toBe('Request body is malformed.');
    expect(await headPosition()).toBe(head);
  });

  it.each<[string, unknown, string]>([
    ['an empty body', {}, 'Body required'],
    ['an array', [1, 2], 'Invalid request body format'],
    ['no type', { sysadmin_password: PASSWORD_B64 }, 'type required'],
    ['an empty type', { type: '', sysadmin_password: PASSWORD_B64 }, 'type required'],
    ['an unknown type', { type: 'bogus', sysadmin_password: PASSWORD_B64 }, 'type invalid'],
    ['no password', { type: 'prestage' }, "Prestage failed: Missing required parameter 'sysadmin_password'"],
    ['an empty password', prestage({ sysadmin_password: '' }), "Prestage failed: Missing required parameter 'sysadmin_password'"],
    ['force yes', prestage({ force: 'yes' }), "Invalid value 'yes' for force - must be True/False or 'true'/'false'"],
    ['force 1', prestage({ force: 1 }), "Invalid value '1' for force - must be True/False or 'true'/'false'"],
    ['apply type sideways', prestage({ 'subcloud-apply-type': 'sideways' }), 'subcloud-apply-type invalid'],
    ['max x', prestage({ 'max-parallel-subclouds': 'x' }), 'max-parallel-subclouds invalid value. Value: x'],
    ['max 2.5 as text', prestage({ 'max-parallel-subclouds': '2.5' }), 'max-parallel-subclouds invalid value. Value: 2.5'],
    ['max 251', prestage({ 'max-parallel-subclouds': '251' }), 'Invalid max-parallel-subclouds value: 251. For prestage, the value must be between 1 and 250.'],
    ['max 251 (number)', prestage({ 'max-parallel-subclouds': 251 }), 'Invalid max-parallel-subclouds value: 251. For prestage, the value must be between 1 and 250.'],
    ['max 0', prestage({ 'max-parallel-subclouds': '0' }), 'Invalid max-parallel-subclouds value: 0. For prestage, the value must be between 1 and 250.'],
    ['max -3', prestage({ 'max-parallel-subclouds': -3 }), 'Invalid max-parallel-subclouds value: -3. For prestage, the value must be between 1 and 250.'],
    ['stop-on-failure maybe', prestage({ 'stop-on-failure': 'maybe' }), 'stop-on-failure invalid'],
    ['cloud_name with subcloud_group', prestage({ cloud_name: 'sc1', subcloud_group: 'east' }), 'cloud_name and subcloud_group are mutually exclusive'],
    ['cloud_name with group', prestage({ cloud_name: 'sc1', group: 'east' }), 'cloud_name and subcloud_group are mutually exclusive'],
    [
      'subcloud_group with max-parallel-subclouds',
      prestage({ subcloud_group: 'east', 'max-parallel-subclouds': '5' }),
      'subcloud-apply-type and max-parallel-subclouds are not allowed when subcloud_group is provided',
    ],
    [
      'subcloud_group with subcloud-apply-type',
      prestage({ subcloud_group: 'east', 'subcloud-apply-type': 'parallel' }),
      'subcloud-apply-type and max-parallel-subclouds are not allowed when subcloud_group is provided',
    ],
    ['an unknown group', prestage({ subcloud_group: 'nowhere' }), 'Invalid group_id'],
    ['an unknown group id', prestage({ group: 999 }), 'Invalid group_id'],
  ])('refuses %s with 400, appending nothing', async (_label, body, message) => {
    const head = await headPosition();
    const r = await t.call('POST', STRATEGY, body);
    expect(r.status, r.text).toBe(400);
    expect(r.json.error.message).toBe(message);
    expect(await headPosition()).toBe(head);
    expect((await t.call('GET', STRATEGY)).status).toBe(404);
  });

  it('refuses another type than prestage: not orchestrated here (400, nothing appended)', async () => {
    const head = await headPosition();
    for (const type of ['kubernetes', 'firmware', 'sw-deploy']) {
      const r = await t.call('POST', STRATEGY, { type, sysadmin_password: PASSWORD_B64 });
      expect(r.status, type).toBe(400);
      expect(r.json.error.message).toContain('only prestage');
      expect(r.json.error.message).toContain(type);
    }
    expect(await headPosition()).toBe(head);
  });

  it('refuses a password that is not base64 (or not text) with the decode message', async () => {
    const head = await headPosition();
    const prefix = 'Prestage failed: Failed to decode subcloud sysadmin_password, verify the password is base64 encoded. Details:';
    for (const sysadmin_password of ['not-base64!', 'abc', 12345]) {
      const r = await t.call('POST', STRATEGY, prestage({ sysadmin_password }));
      expect(r.status, String(sysadmin_password)).toBe(400);
      expect(r.json.error.message.startsWith(prefix), r.json.error.message).toBe(true);
    }
    expect(await headPosition()).toBe(head);
  });
});

describe('create: accepted values', () => {
  beforeEach(clearStrategy);

  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ['force true (JSON)', { force: true }, { 'extra-args': { force: true, 'prestage-software-version': RELEASE } }],
    ['force "true"', { force: 'true' }, { 'extra-args': { force: true, 'prestage-software-version': RELEASE } }],
    ['force "False"', { force: 'False' }, { 'extra-args': { force: false, 'prestage-software-version': RELEASE } }],
    ['force "false"', { force: 'false' }, { 'extra-args': { force: false, 'prestage-software-version': RELEASE } }],
    ['serial', { 'subcloud-apply-type': 'serial' }, { 'subcloud-apply-type': 'serial', 'max-parallel-subclouds': 1 }],
    ['serial with max 10', { 'subcloud-apply-type': 'serial', 'max-parallel-subclouds': '10' }, { 'subcloud-apply-type': 'serial', 'max-parallel-subclouds': 1 }],
    ['parallel with max 250', { 'subcloud-apply-type': 'parallel', 'max-parallel-subclouds': 250 }, { 'subcloud-apply-type': 'parallel', 'max-parallel-subclouds': 250 }],
    ['max " 7 "', { 'max-parallel-subclouds': ' 7 ' }, { 'subcloud-apply-type': null, 'max-parallel-subclouds': 7 }],
    ['no max: the default 2', {}, { 'max-parallel-subclouds': 2, 'stop-on-failure': false }],
    ['stop-on-failure "true"', { 'stop-on-failure': 'true' }, { 'stop-on-failure': true }],
    ['stop-on-failure true (JSON)', { 'stop-on-failure': true }, { 'stop-on-failure': true }],
    ['stop-on-failure "false"', { 'stop-on-failure': 'false' }, { 'stop-on-failure': false }],
  ])('%s', async (_label, extra, shown) => {
    const s = await created(extra);
    expect(s).toMatchObject({ ...shown, state: 'initial', type: 'prestage' });
    expect((await t.call('GET', STRATEGY)).json).toEqual(s);
  });
});

describe('actions', () => {
  beforeEach(clearStrategy);

  it('with no strategy: apply/abort/DELETE 422 Strategy not found, GET 404, steps empty; nothing appended', async () => {
    const head = await headPosition();
    for (const verb of ['apply', 'abort']) {
      const r = await action(verb);
      expect(r.status).toBe(422);
      expect(r.json.error.message).toBe(cannot(verb, 'None', 'Strategy not found'));
    }
    const typed = await action('apply', '?type=prestage');
    expect(typed.status).toBe(422);
    expect(typed.json.error.message).toBe(cannot('apply', 'prestage', "Strategy of type 'prestage' not found"));
    const del = await t.call('DELETE', STRATEGY);
    expect(del.status).toBe(422);
    expect(del.json.error.message).toBe(cannot('delete', 'None', 'Strategy not found'));
    const get = await t.call('GET', STRATEGY);
    expect(get.status).toBe(404);
    expect(get.json.error.message).toBe('Strategy not found');
    const getTyped = await t.call('GET', `${STRATEGY}?type=prestage`);
    expect(getTyped.status).toBe(404);
    expect(getTyped.json.error.message).toBe("Strategy of type 'prestage' not found");
    expect(await steps()).toEqual([]);
    expect((await t.call('GET', `${STRATEGY}/steps/sc1`)).status).toBe(404);
    expect(await headPosition()).toBe(head);
  });

  it('apply, abort, and what each state refuses', async () => {
    t.clock.set('2026-03-03T09:00:00.000Z');
    const s = await created();
    t.clock.set('2026-03-03T09:05:00.500Z');

    // initial: not abortable
    let head = await headPosition();
    const early = await action('abort');
    expect(early.status).toBe(422);
    expect(early.json.error.message).toBe(cannot('abort', 'None', 'Bad strategy request: Strategy in state initial cannot be aborted'));
    expect(await headPosition()).toBe(head);

    const applied = await action('apply');
    expect(applied.status, applied.text).toBe(200);
    expect(applied.json).toEqual({ ...s, state: 'applying', 'updated-at': '2026-03-03 09:05:00.500000' });
    expect((await t.call('GET', STRATEGY)).json.state).toBe('applying');

    head = await headPosition();
    const again = await action('apply');
    expect(again.status).toBe(422);
    expect(again.json.error.message).toBe("Unable to apply strategy of type 'None': Bad strategy request: Strategy in state applying cannot be applied");
    const typed = await action('apply', '?type=prestage');
    expect(typed.status).toBe(422);
    expect(typed.json.error.message).toBe("Unable to apply strategy of type 'prestage': Bad strategy request: Strategy in state applying cannot be applied");
    const otherType = await action('apply', '?type=kubernetes');
    expect(otherType.status).toBe(422);
    expect(otherType.json.error.message).toBe(cannot('apply', 'kubernetes', "Strategy of type 'kubernetes' not found"));
    const delApplying = await t.call('DELETE', STRATEGY);
    expect(delApplying.status).toBe(422);
    expect(delApplying.json.error.message).toBe(cannot('delete', 'None', 'Bad strategy request: Strategy in state applying cannot be deleted'));
    expect(await headPosition()).toBe(head);

    const aborted = await action('abort');
    expect(aborted.status, aborted.text).toBe(200);
    expect(aborted.json.state).toBe('abort requested');
    expect((await t.call('GET', STRATEGY)).json.state).toBe('abort requested');

    head = await headPosition();
    const abortAgain = await action('abort');
    expect(abortAgain.status).toBe(422);
    expect(abortAgain.json.error.message).toBe(cannot('abort', 'None', 'Bad strategy request: Strategy in state abort requested cannot be aborted'));
    const applyAborting = await action('apply');
    expect(applyAborting.status).toBe(422);
    expect(applyAborting.json.error.message).toBe(cannot('apply', 'None', 'Bad strategy request: Strategy in state abort requested cannot be applied'));
    const del = await t.call('DELETE', STRATEGY);
    expect(del.status).toBe(422);
    expect(del.json.error.message).toBe("Unable to delete strategy of type 'None': Bad strategy request: Strategy in state abort requested cannot be deleted");
    const delTyped = await t.call('DELETE', `${STRATEGY}?type=prestage`);
    expect(delTyped.status).toBe(422);
    expect(delTyped.json.error.message).toBe(cannot('delete', 'prestage', 'Bad strategy request: Strategy in state abort requested cannot be deleted'));
    expect(await headPosition()).toBe(head);
    expect((await t.call('GET', STRATEGY)).json.state).toBe('abort requested');
  });

  it.each<[string, unknown, string]>([
    ['no action', {}, 'action required'],
    ['another key', { verb: 'apply' }, 'action required'],
    ['an empty action', { action: '' }, 'action required'],
    ['action dance', { action: 'dance' }, 'action invalid: it must be apply or abort'],
  ])('actions with %s: 400, nothing appended', async (_label, body, message) => {
    await created();
    const head = await headPosition();
    const r = await t.call('POST', `${STRATEGY}/actions`, body);
    expect(r.status).toBe(400);
    expect(r.json.error.message).toBe(message);
    expect(await headPosition()).toBe(head);
    expect((await t.call('GET', STRATEGY)).json.state).toBe('initial');
  });

  it('actions with malformed JSON: 400 Request body is malformed.', async () => {
    await created();
    const head = await headPosition();
    const r = await t.call('POST', `${STRATEGY}/actions`, '{"action": ');
    expect(r.status).toBe(400);
    expect(r.json.error.message).toBe('Request body is malformed.');
    expect(await headPosition()).toBe(head);
  });
});

describe('delete', () => {
  beforeEach(clearStrategy);

  it('from initial: 200 deleting; then 404, no steps, and a new strategy can be created', async () => {
    t.clock.set('2026-03-04T07:00:00.000Z');
    const s = await created({ 'max-parallel-subclouds': 3 });
    expect((await steps()).length).toBe(4);
    t.clock.set('2026-03-04T07:10:00.000Z');
    const del = await t.call('DELETE', STRATEGY);
    expect(del.status, del.text).toBe(200);
    expect(Object.keys(del.json)).toEqual(KEYS);
    expect(del.json).toEqual({ ...s, state: 'deleting', 'updated-at': '2026-03-04 07:10:00' });
    expect(del.text).not.toContain(PASSWORD_B64);

    const get = await t.call('GET', STRATEGY);
    expect(get.status).toBe(404);
    expect(get.json.error.message).toBe('Strategy not found');
    expect(await steps()).toEqual([]);
    expect((await t.call('GET', `${STRATEGY}/steps/sc1`)).status).toBe(404);
    const again = await t.call('DELETE', STRATEGY);
    expect(again.status).toBe(422);
    expect(again.json.error.message).toBe(cannot('delete', 'None', 'Strategy not found'));

    // the single-strategy reservation was released
    const next = await created({ cloud_name: 'sc3' });
    expect(next.id).toBeGreaterThan(s.id);
    expect(await clouds()).toEqual(['sc3']);
  });

  it('DELETE ?type=prestage deletes; ?type=kubernetes does not find it', async () => {
    const s = await created();
    const head = await headPosition();
    const wrong = await t.call('DELETE', `${STRATEGY}?type=kubernetes`);
    expect(wrong.status).toBe(422);
    expect(wrong.json.error.message).toBe(cannot('delete', 'kubernetes', "Strategy of type 'kubernetes' not found"));
    expect(await headPosition()).toBe(head);
    const del = await t.call('DELETE', `${STRATEGY}?type=prestage`);
    expect(del.status).toBe(200);
    expect(del.json).toMatchObject({ id: s.id, state: 'deleting' });
    expect((await t.call('GET', STRATEGY)).status).toBe(404);
  });

  it('from complete and from failed (ends the orchestrator would record)', async () => {
    for (const end of [{ failedSteps: 0, abortedSteps: 0 }, { failedSteps: 1, abortedSteps: 0 }]) {
      const s = await created();
      expect((await action('apply')).status).toBe(200);
      await t.site.commands.strategies.record(s.id, { type: 'FinishStrategy', ...end, at: t.clock.now().toISOString() }, systemContext(t.clock.now(), 'test'));
      await settle();
      const state = (await t.call('GET', STRATEGY)).json.state;
      expect(state).toBe(end.failedSteps ? 'failed' : 'complete');
      const del = await t.call('DELETE', STRATEGY);
      expect(del.status, del.text).toBe(200);
      expect(del.json.state).toBe('deleting');
      expect((await t.call('GET', STRATEGY)).status).toBe(404);
    }
  });

  it('the history of a strategy: created, state changes, deleted; the password is in no event', async () => {
    t.clock.set('2026-03-05T06:00:00.000Z');
    const s = await created();
    expect((await action('apply')).status).toBe(200);
    expect((await action('abort')).status).toBe(200);
    await clearStrategy();

    const r = await t.call('GET', `/history/streams/swUpdateStrategy-${s.id}`);
    expect(r.status).toBe(200);
    const types = r.json.events.map((e: any) => e.type);
    expect(types[0]).toBe('SwUpdateStrategyCreated');
    expect(types.at(-1)).toBe('SwUpdateStrategyDeleted');
    expect(types).toContain('SwUpdateStrategyStateChanged');
    const changes = r.json.events.filter((e: any) => e.type === 'SwUpdateStrategyStateChanged').map((e: any) => [e.data.previous, e.data.state]);
    expect(changes).toEqual([
      ['initial', 'applying'],
      ['applying', 'abort requested'],
      ['abort requested', 'aborting'],
      ['aborting', 'aborted'],
      ['aborted', 'deleting'],
    ]);
    const createdEvent = r.json.events[0];
    expect(createdEvent.data).toMatchObject({ id: s.id, type: 'prestage', steps: [{ cloud: 'sc1' }, { cloud: 'sc2' }, { cloud: 'sc3' }, { cloud: 'sc8' }] });
    // sealed, not the request's text
    expect(createdEvent.data.sysadminPassword).toMatchObject({ alg: 'A256GCM', ct: expect.any(String) });
    expect(r.text).not.toContain(PASSWORD_B64);
    expect(r.text).not.toContain(PASSWORD);
    const everything = await allEventsText();
    expect(everything).toContain(`swUpdateStrategy-${s.id}`);
    expect(everything).not.toContain(PASSWORD_B64);
    expect(everything).not.toContain(PASSWORD);
  });
});

describe('PATCH /v1.0/subclouds/{ref}/prestage: refusals', () => {
  beforeEach(clearStrategy);
  const patch = (ref: string, body: unknown) => t.call('PATCH', `/v1.0/subclouds/${ref}/prestage`, body);

  it.each<[string, string, unknown, number, string]>([
    ['an empty body', 'sc1', {}, 400, 'Body required'],
    ['malformed JSON', 'sc1', '{"sysadmin_password": ', 400, 'Request body is malformed.'],
    ['no password', 'sc1', { force: 'true' }, 400, 'sysadmin_password is required.'],
    ['an empty password', 'sc1', { sysadmin_password: '' }, 400, 'sysadmin_password is required.'],
    ['a password not base64', 'sc1', { sysadmin_password: 'not-base64!' }, 400, 'Failed to decode subcloud sysadmin_password, verify the password is base64 encoded'],
    ['force maybe', 'sc1', { sysadmin_password: PASSWORD_B64, force: 'maybe' }, 400, 'Invalid value for force option: maybe'],
    [
      'a release not imported',
      'sc1',
      { sysadmin_password: PASSWORD_B64, release: '99.99' },
      400,
      "Prestage skipped 'sc1': Specified release is not supported. 99.99 version must first be imported",
    ],
    ['an offline subcloud', 'sc4', { sysadmin_password: PASSWORD_B64 }, 400, "Prestage skipped 'sc4': Subcloud is offline."],
    ['an offline subcloud by id', 'SC4_ID', { sysadmin_password: PASSWORD_B64, force: 't' }, 400, "Prestage skipped 'sc4': Subcloud is offline."],
    ['an unmanaged subcloud', 'sc5', { sysadmin_password: PASSWORD_B64 }, 400, "Prestage skipped 'sc5': Subcloud is not managed."],
    [
      'a subcloud not deployed',
      'sc6',
      { sysadmin_password: PASSWORD_B64 },
      400,
      "Prestage skipped 'sc6': Prestage operation is not allowed when subcloud deploy is not completed.",
    ],
    [
      'a subcloud being prestaged',
      'sc7',
      { sysadmin_password: PASSWORD_B64, force: true },
      400,
      "Prestage skipped 'sc7': Prestage operation is only allowed while subcloud prestage status is one of: failed, complete. The current prestage status is prestaging-packages.",
    ],
    ['an unknown subcloud', 'nope', { sysadmin_password: PASSWORD_B64 }, 404, 'Subcloud not found'],
    ['an unknown subcloud id', '9999', { sysadmin_password: PASSWORD_B64 }, 404, 'Subcloud not found'],
  ])('%s: %i, nothing appended', async (_label, ref, body, status, message) => {
    const head = await headPosition();
    const r = await patch(ref === 'SC4_ID' ? String(sc.sc4!.id) : ref, body);
    expect(r.status, r.text).toBe(status);
    expect(r.json.error.message).toBe(message);
    expect(await headPosition()).toBe(head);
  });

  it('while a prestage strategy is applying: 400 Prestage failed, for any subcloud; allowed again once it is not', async () => {
    await created();
    // a strategy that is not being applied does not block (the offline check answers)
    expect((await patch('sc4', { sysadmin_password: PASSWORD_B64 })).json.error.message).toBe("Prestage skipped 'sc4': Subcloud is offline.");
    expect((await action('apply')).status).toBe(200);
    const head = await headPosition();
    for (const name of ['sc1', 'sc4']) {
      const r = await patch(name, { sysadmin_password: PASSWORD_B64, force: true });
      expect(r.status, r.text).toBe(400);
      expect(r.json.error.message).toBe(`Prestage failed '${name}': Prestage operations are not allowed while a prestage strategy is in progress.`);
    }
    expect(await headPosition()).toBe(head);
    // abort requested is still in progress
    expect((await action('abort')).status).toBe(200);
    const abortHead = await headPosition();
    const r = await patch('sc1', { sysadmin_password: PASSWORD_B64 });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toBe("Prestage failed 'sc1': Prestage operations are not allowed while a prestage strategy is in progress.");
    expect(await headPosition()).toBe(abortHead);
    await clearStrategy();
    expect((await patch('sc4', { sysadmin_password: PASSWORD_B64 })).json.error.message).toBe("Prestage skipped 'sc4': Subcloud is offline.");
  });
});

describe('concurrency', () => {
  beforeEach(clearStrategy);

  it('five creates at once: exactly one 200, the others 422 already exists; one strategy, one set of steps', async () => {
    const bodies = [{}, { 'max-parallel-subclouds': 3 }, { cloud_name: 'sc1' }, { subcloud_group: 'east' }, { force: true }];
    const answers = await Promise.all(bodies.map((b) => create(b)));
    const won = answers.filter((r) => r.status === 200);
    const lost = answers.filter((r) => r.status !== 200);
    expect(won, answers.map((r) => `${r.status} ${r.text}`).join('\n')).toHaveLength(1);
    for (const r of lost) {
      expect(r.status, r.text).toBe(422);
      expect(r.json.error.message).toBe(ALREADY_EXISTS);
    }
    const current = await t.call('GET', STRATEGY);
    expect(current.json).toEqual(won[0]!.json);
    const all = await steps();
    expect(new Set(all.map((s) => s.cloud)).size).toBe(all.length);
    expect(all.length).toBeGreaterThan(0);
    // and it is still the only one
    const after = await create();
    expect(after.status).toBe(422);
    expect(after.json.error.message).toBe(ALREADY_EXISTS);
  });

  it('five creates at once, again after a delete: still exactly one', async () => {
    const answers = await Promise.all(Array.from({ length: 5 }, () => create()));
    expect(answers.filter((r) => r.status === 200)).toHaveLength(1);
    expect(answers.filter((r) => r.status === 422 && r.json.error.message === ALREADY_EXISTS)).toHaveLength(4);
  });
});

describe('Idempotency-Key', () => {
  beforeEach(clearStrategy);

  it('an apply retried with the same key answers as the first did and appends nothing', async () => {
    const s = await created();
    const headers = { 'idempotency-key': 'apply-strategy-1' };
    const first = await t.call('POST', `${STRATEGY}/actions`, { action: 'apply' }, headers);
    expect(first.status, first.text).toBe(200);
    const head = await headPosition();
    const again = await t.call('POST', `${STRATEGY}/actions`, { action: 'apply' }, headers);
    expect(again.status, again.text).toBe(200);
    expect(again.json).toEqual(first.json);
    expect(again.json).toMatchObject({ id: s.id, state: 'applying' });
    expect(await headPosition()).toBe(head);
    // the same key for another request
    const other = await t.call('POST', `${STRATEGY}/actions`, { action: 'abort' }, headers);
    expect(other.status).toBe(422);
  });
});

// A create retried with the same Idempotency-Key after a success answers as the first time (the read-model check
// that refuses a second strategy is skipped for a retry; the reservation and the creation recognise it).
describe('a create retried with the same Idempotency-Key', () => {
  beforeEach(clearStrategy);

  it('answers as the first did and appends nothing', async () => {
    const headers = { 'idempotency-key': 'create-strategy-1' };
    const first = await t.call('POST', STRATEGY, prestage(), headers);
    expect(first.status, first.text).toBe(200);
    const head = await headPosition();
    const again = await t.call('POST', STRATEGY, prestage(), headers);
    expect(again.status, again.text).toBe(200);
    expect(again.json).toEqual(first.json);
    expect(await headPosition()).toBe(head);
  });
});

// Request values in messages are shown as dcmanager (Python) shows them, and the type is checked first.
describe('request values in create messages', () => {
  beforeAll(clearStrategy);

  it('no type with max-parallel-subclouds 6000: no "undefined" in the message', async () => {
    const r = await t.call('POST', STRATEGY, { sysadmin_password: PASSWORD_B64, 'max-parallel-subclouds': 6000 });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toBe('type required');
  });

  it('max-parallel-subclouds {}: no "[object Object]" in the message', async () => {
    const r = await create({ 'max-parallel-subclouds': {} });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toBe('max-parallel-subclouds invalid value. Value: {}');
  });
});
