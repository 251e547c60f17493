// /v1.0/subclouds over HTTP: multipart add, list/show/detail, update, delete, with dcmanager's keys, codes and messages.
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FormCall } from '../support/http.js';
import { startTestSite, type TestSite } from '../support/site.js';
import { bootstrap, SYSADMIN_B64 } from '../unit/domain/subcloudFixtures.js';

let t: TestSite;
beforeAll(async () => {
  t = await startTestSite();
});
afterAll(async () => t.stop());

const form: FormCall = (...args) => t.form(...args);

const addSubcloud = (over: Record<string, unknown> = {}, fields: Record<string, string> = {}) =>
  form('POST', '/v1.0/subclouds/', { sysadmin_password: SYSADMIN_B64, 'bootstrap-address': '10.10.10.12', ...fields }, { bootstrap_values: stringify(bootstrap(over)) });

const DICT_KEYS = [
  'id', 'name', 'description', 'location', 'software-version', 'management-state', 'availability-status', 'deploy-status',
  'backup-status', 'backup-datetime', 'error-description', 'region-name', 'management-subnet', 'management-start-ip',
  'management-end-ip', 'management-gateway-ip', 'openstack-installed', 'prestage-status', 'prestage-versions',
  'systemcontroller-gateway-ip', 'data_install', 'data_upgrade', 'created-at', 'updated-at', 'group_id', 'peer_group_id',
  'rehome_data',
];

describe('POST /v1.0/subclouds', () => {
  it('adds a subcloud: 200 with dcmanager\'s dict, not-deployed, unmanaged, offline, a 32-hex region', async () => {
    const r = await addSubcloud({}, { description: 'first', location: 'ottawa' });
    expect(r.status).toBe(200);
    expect(Object.keys(r.json)).toEqual([...DICT_KEYS, 'endpoint_sync_status']);
    expect(r.json).toMatchObject({
      id: 1,
      name: 'subcloud1',
      description: 'first',
      location: 'ottawa',
      'software-version': '24.03',
      'management-state': 'unmanaged',
      'availability-status': 'offline',
      'deploy-status': 'not-deployed',
      'error-description': 'No errors present',
      'management-subnet': '192.168.101.0/24',
      'management-start-ip': '192.168.101.2',
      'management-end-ip': '192.168.101.50',
      group_id: 1,
      peer_group_id: null,
    });
    expect(r.json['region-name']).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.stringify(r.json)).not.toContain(SYSADMIN_B64);
  });

  it('409 on a duplicate name, 400 with dcmanager\'s message on bad input, nothing added', async () => {
    const head = await t.site.eventStore.headPosition();
    const dup = await addSubcloud({ management_subnet: '192.168.102.0/24', management_start_address: '192.168.102.2', management_end_address: '192.168.102.50', management_gateway_address: '192.168.102.1' });
    expect(dup.status).toBe(409);
    expect(dup.json.error.message).toBe('Subcloud with name=subcloud1 already exists');
    const overlap = await addSubcloud({ name: 'subcloud2' });
    expect(overlap.status).toBe(400);
    expect(overlap.json.error.message).toBe('Management address range overlaps with that of subcloud subcloud1');
    // Its own range is free, but its OAM subnet starts inside subcloud1's management subnet.
    const oam = await addSubcloud({
      name: 'subcloud2', management_subnet: '192.168.103.0/24', management_start_address: '192.168.103.2', management_end_address: '192.168.103.50',
      management_gateway_address: '192.168.103.1', external_oam_subnet: '192.168.101.128/25', external_oam_gateway_address: '192.168.101.129', external_oam_floating_address: '192.168.101.130',
    });
    expect(oam.json.error?.message).toBe('external_oam_subnet invalid: Subnet overlaps with another configured subnet');
    const noPassword = await form('POST', '/v1.0/subclouds', { 'bootstrap-address': '10.10.10.12' }, { bootstrap_values: stringify(bootstrap({ name: 'x2' })) });
    expect(noPassword.status).toBe(400);
    expect(noPassword.json.error.message).toBe('subcloud sysadmin_password required');
    const badYaml = await form('POST', '/v1.0/subclouds', { sysadmin_password: SYSADMIN_B64 }, { bootstrap_values: 'name: [unclosed' });
    expect(badYaml.status).toBe(400);
    expect(badYaml.json.error.message).toMatch(/^Error: Unable to load bootstrap_values file contents/);
    const notMultipart = await t.call('POST', '/v1.0/subclouds', { name: 'x' });
    expect(notMultipart.status).toBe(400);
    const list = await t.call('GET', '/v1.0/subclouds');
    expect(list.json.subclouds.map((s: any) => s.name)).toEqual(['subcloud1']);
    // Refused adds append nothing: no id taken, no name reserved and released.
    expect(await t.site.eventStore.headPosition()).toBe(head);
  });
});

describe('POST /v1.0/subclouds with an Idempotency-Key', () => {
  it('a repeat answers as the first did and adds nothing more', async () => {
    const values = { name: 'again1', management_subnet: '192.168.120.0/24', management_start_address: '192.168.120.2', management_end_address: '192.168.120.50', management_gateway_address: '192.168.120.1' };
    const send = () =>
      form('POST', '/v1.0/subclouds', { sysadmin_password: SYSADMIN_B64 }, { bootstrap_values: stringify(bootstrap(values)) }, { 'idempotency-key': 'add-again1' });
    const first = await send();
    expect(first.status).toBe(200);
    const head = await t.site.eventStore.headPosition();
    const second = await send();
    expect(second.status).toBe(200);
    expect(second.json).toMatchObject({ id: first.json.id, name: 'again1', 'region-name': first.json['region-name'] });
    expect(await t.site.eventStore.headPosition()).toBe(head);
    const deleted = await t.call('DELETE', `/v1.0/subclouds/${first.json.id}`);
    expect(deleted.status).toBe(200);
  });
});

describe('GET /v1.0/subclouds', () => {
  it('lists with sync_status and endpoint_sync_status; shows by id and name; detail adds oam_floating_ip, region_name', async () => {
    const list = await t.call('GET', '/v1.0/subclouds/');
    expect(list.status).toBe(200);
    const [entry] = list.json.subclouds;
    expect(entry.sync_status).toBe('unknown');
    expect(Array.isArray(entry.endpoint_sync_status)).toBe(true);
    const byName = await t.call('GET', '/v1.0/subclouds/subcloud1');
    const byId = await t.call('GET', '/v1.0/subclouds/1');
    expect(byName.json).toEqual(byId.json);
    expect(byName.json.sync_status).toBeUndefined();
    const detail = await t.call('GET', '/v1.0/subclouds/1/detail');
    expect(detail.json).toMatchObject({ oam_floating_ip: 'unavailable', deploy_config_sync_status: 'unknown', region_name: byId.json['region-name'] });
  });

  it('404 Subcloud not found', async () => {
    for (const path of ['/v1.0/subclouds/99', '/v1.0/subclouds/nobody', '/v1.0/subclouds/nobody/detail']) {
      const r = await t.call('GET', path);
      expect(r.status).toBe(404);
      expect(r.json.error.message).toBe('Subcloud not found');
    }
  });
});

describe('PATCH /v1.0/subclouds/{ref}', () => {
  it('updates description, location and group (by name); the group lists it as a member', async () => {
    const g = await t.call('POST', '/v1.0/subcloud-groups', { name: 'edge', description: 'edge', update_apply_type: 'serial', max_parallel_subclouds: 2 });
    const r = await form('PATCH', '/v1.0/subclouds/subcloud1', { description: 'second', location: 'kanata', group_id: 'edge' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ description: 'second', location: 'kanata', group_id: g.json.id });
    const members = await t.call('GET', `/v1.0/subcloud-groups/${g.json.id}/subclouds`);
    expect(members.json.subclouds.map((s: any) => s.name)).toEqual(['subcloud1']);
    const del = await t.call('DELETE', `/v1.0/subcloud-groups/${g.json.id}`);
    expect(del.status).toBe(400);
  });

  it('refuses with dcmanager\'s messages: invalid group, manage before deploy, bad force, rename while not deployed', async () => {
    const cases: [Record<string, string>, number, string][] = [
      [{ group_id: 'nope' }, 400, 'Invalid group'],
      [{ 'management-state': 'sideways' }, 400, 'Invalid management-state'],
      [{ 'management-state': 'managed' }, 422, "Bad subcloud request: Unable to manage subcloud1: its deploy_status must be either 'complete' or 'rehome-pending'"],
      [{ 'management-state': 'unmanaged' }, 422, 'Bad subcloud request: Subcloud subcloud1 already unmanaged'],
      [{ force: 'maybe', 'management-state': 'managed' }, 400, 'Invalid force value'],
    ];
    for (const [fields, status, message] of cases) {
      const r = await form('PATCH', '/v1.0/subclouds/1', fields);
      expect({ fields, status: r.status, message: r.json?.error?.message }).toEqual({ fields, status, message });
    }
    const rename = await form('PATCH', '/v1.0/subclouds/1', { name: 'renamed' });
    expect(rename.status).toBe(400);
    expect(rename.json.error.message).toMatch(/^Subcloud subcloud1 must be deployed/);
    expect((await t.call('GET', '/v1.0/subclouds/renamed')).status).toBe(404);
  });
});

describe('DELETE /v1.0/subclouds/{ref}', () => {
  it('deletes an unmanaged subcloud; its name is free again', async () => {
    const other = await addSubcloud({ name: 'subcloud3', management_subnet: '192.168.103.0/24', management_start_address: '192.168.103.2', management_end_address: '192.168.103.50', management_gateway_address: '192.168.103.1' });
    expect(other.status).toBe(200);
    const del = await t.call('DELETE', '/v1.0/subclouds/subcloud3');
    expect(del.status).toBe(200);
    expect((await t.call('GET', '/v1.0/subclouds/subcloud3')).status).toBe(404);
    expect((await t.call('DELETE', '/v1.0/subclouds/subcloud3')).status).toBe(404);
    const again = await addSubcloud({ name: 'subcloud3', management_subnet: '192.168.103.0/24', management_start_address: '192.168.103.2', management_end_address: '192.168.103.50', management_gateway_address: '192.168.103.1' });
    expect(again.status).toBe(200);
  });
});
