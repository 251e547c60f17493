// dcmanager's system-peers API, over HTTP, against a whole site: keys, defaults, every validation message, lookups
// by id, UUID and name, and the manager password that is never shown and only kept sealed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemPeerBody } from '../support/geo.js';
import { startTestSite, type TestSite } from '../support/site.js';

let t: TestSite;
beforeAll(async () => {
  t = await startTestSite({ env: { SYSTEM_NAME: 'site-a' } });
});
afterAll(async () => t.stop());

const PLAIN_PASSWORD = 'peer-manager-secret-9';
const peer = (extra: Record<string, unknown> = {}) => systemPeerBody(extra, PLAIN_PASSWORD);
const headPosition = () => t.site.eventStore.headPosition();

describe('system-peers', () => {
  it('adds a peer with dcmanager defaults, keys in dcmanager order, never the password', async () => {
    t.clock.set('2026-03-01T11:00:00.000Z');
    const r = await t.call('POST', '/v1.0/system-peers', peer());
    expect(r.status).toBe(200);
    expect(Object.keys(r.json)).toEqual([
      'id',
      'peer-uuid',
      'peer-name',
      'manager-endpoint',
      'manager-username',
      'peer-controller-gateway-address',
      'administrative-state',
      'heartbeat-interval',
      'heartbeat-failure-threshold',
      'heartbeat-failure-policy',
      'heartbeat-maintenance-timeout',
      'availability-state',
      'created-at',
      'updated-at',
    ]);
    expect(r.json).toMatchObject({
      id: 1,
      'peer-uuid': '8a1f2f5e-4a57-4f6b-9c4e-4d5d9f0b1c01',
      'administrative-state': 'enabled',
      'heartbeat-interval': 60,
      'heartbeat-failure-threshold': 3,
      'heartbeat-failure-policy': 'alarm',
      'heartbeat-maintenance-timeout': 600,
      'availability-state': 'created',
      'created-at': '2026-03-01 11:00:00',
      'updated-at': null,
    });
    for (const ref of ['1', '8a1f2f5e-4a57-4f6b-9c4e-4d5d9f0b1c01', 'site-b']) {
      expect((await t.call('GET', `/v1.0/system-peers/${ref}`)).json).toEqual(r.json);
    }
    expect((await t.call('GET', '/v1.0/system-peers/')).json).toEqual({ system_peers: [r.json] });
    expect((await t.call('GET', '/v1.0/system-peers/1/subcloud-peer-groups')).json).toEqual({ subcloud_peer_groups: [] });
  });

  it('keeps the manager password sealed: not in any answer, read model or stored event', async () => {
    const plain = [PLAIN_PASSWORD, Buffer.from(PLAIN_PASSWORD).toString('base64')];
    const answers = JSON.stringify([(await t.call('GET', '/v1.0/system-peers')).json, (await t.call('GET', '/v1.0/system-peers/1')).json]);
    const events = JSON.stringify(await t.site.eventStore.readAll(), (_k, v) => (typeof v === 'bigint' ? String(v) : v));
    const docs = JSON.stringify(await t.site.readStore.find('system_peers', {}));
    for (const text of [answers, events, docs]) for (const p of plain) expect(text).not.toContain(p);
    const added = (await t.site.eventStore.readStream('systemPeer-1'))[0]!;
    expect((added.data as { managerPassword: { alg: string; kid: string } }).managerPassword).toMatchObject({ alg: 'A256GCM' });
  });

  it('refuses a second peer with the same UUID (409) or name (409), appending nothing', async () => {
    const before = await headPosition();
    const sameUuid = await t.call('POST', '/v1.0/system-peers', peer({ peer_name: 'other' }));
    expect(sameUuid.status).toBe(409);
    expect(sameUuid.json.error.message).toBe('A system peer with this UUID already exists');
    // the same UUID written another way (upper case, braces) is the same peer
    const spelled = await t.call('POST', '/v1.0/system-peers', peer({ peer_uuid: '{8A1F2F5E-4A57-4F6B-9C4E-4D5D9F0B1C01}', peer_name: 'other' }));
    expect(spelled.status).toBe(409);
    const sameName = await t.call('POST', '/v1.0/system-peers', peer({ peer_uuid: '0d8e7b1c-1f8e-4f7c-8a51-2b7f4c9e3a10' }));
    expect(sameName.status).toBe(409);
    expect(sameName.json.error.message).toBe('A system peer with this name already exists');
    expect((await t.call('GET', '/v1.0/system-peers')).json.system_peers).toHaveLength(1);
    // the id sequence may move; no system peer event was appended
    const after = await t.site.eventStore.readAll({ after: before });
    expect(after.filter((e) => e.streamId.startsWith('systemPeer-'))).toEqual([]);
  });

  it.each([
    [{}, 'Body required'],
    [peer({ peer_uuid: 'not-a-uuid' }), 'Invalid peer uuid'],
    [peer({ peer_name: '12345' }), 'Invalid peer name'],
    [peer({ peer_name: 'x'.repeat(255) }), 'Invalid peer name'],
    [peer({ manager_endpoint: 'ftp://peer/v3' }), 'Invalid peer manager_endpoint'],
    [peer({ manager_username: '' }), 'Invalid peer manager_username'],
    [peer({ manager_password: undefined }), 'Invalid peer manager_password'],
    [peer({ manager_password: 'not base64!' }), 'Invalid peer manager_password'],
    [peer({ peer_controller_gateway_address: '10.10.10.300' }), 'Invalid peer peer_controller_gateway_address'],
    [peer({ administrative_state: 'on' }), 'Invalid peer administrative_state'],
    [peer({ heartbeat_interval: 9 }), 'Invalid peer heartbeat_interval'],
    [peer({ heartbeat_interval: 'fake' }), 'Invalid peer heartbeat_interval'],
    [peer({ heartbeat_failure_threshold: 31 }), 'Invalid peer heartbeat_failure_threshold'],
    [peer({ heartbeat_failure_policy: 'panic' }), 'Invalid peer heartbeat_failure_policy'],
    [peer({ heartbeat_maintenance_timeout: 299 }), 'Invalid peer heartbeat_maintenance_timeout'],
  ])('refuses %j with 400 %s', async (body, message) => {
    const before = await headPosition();
    const r = await t.call('POST', '/v1.0/system-peers', { ...body, peer_name: (body as { peer_name?: string }).peer_name ?? (Object.keys(body).length ? 'site-c' : undefined) });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toBe(message);
    expect(await headPosition()).toBe(before);
  });

  it('refuses a body that is not JSON or not an object', async () => {
    const raw = await fetch(`${t.base}/v1.0/system-peers`, {
      method: 'POST',
      headers: { 'x-auth-token': 'test-admin-token-0123456789', 'content-type': 'application/json', accept: 'application/json' },
      body: '{"peer_uuid": ',
    });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { error: { message: string } }).error.message).toBe('Request body is malformed.');
    const list = await t.call('POST', '/v1.0/system-peers', [1, 2]);
    expect(list.status).toBe(400);
    expect(list.json.error.message).toBe('Invalid request body format');
  });

  it('updates any subset: strings of digits become numbers, a new password is sealed again', async () => {
    t.clock.set('2026-03-01T12:00:00.000Z');
    const r = await t.call('PATCH', '/v1.0/system-peers/site-b', {
      heartbeat_interval: '30',
      heartbeat_failure_threshold: 2,
      administrative_state: 'disabled',
      manager_password: Buffer.from('rotated-secret').toString('base64'),
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ 'heartbeat-interval': 30, 'heartbeat-failure-threshold': 2, 'administrative-state': 'disabled', 'updated-at': '2026-03-01 12:00:00' });
    const updated = (await t.site.eventStore.readStream('systemPeer-1')).at(-1)!;
    expect(updated.type).toBe('SystemPeerUpdated');
    expect(JSON.stringify(updated.data)).not.toContain('rotated-secret');
    expect((updated.data as { managerPassword: { alg: string } }).managerPassword.alg).toBe('A256GCM');
  });

  it('answers PATCH refusals in dcmanager order', async () => {
    expect((await t.call('PATCH', '/v1.0/system-peers/site-b', {})).json.error.message).toBe('Body required');
    expect((await t.call('PATCH', '/v1.0/system-peers/nope', { peer_name: 'x' })).status).toBe(404);
    expect((await t.call('PATCH', '/v1.0/system-peers/site-b', { heartbeat_interval: 0 })).json.error.message).toBe('nothing to update');
    expect((await t.call('PATCH', '/v1.0/system-peers/site-b', { unknown: 'x' })).json.error.message).toBe('nothing to update');
    expect((await t.call('PATCH', '/v1.0/system-peers/site-b', { heartbeat_interval: 601 })).json.error.message).toBe('Invalid peer heartbeat_interval');
    expect((await t.call('PATCH', '/v1.0/system-peers/', { peer_name: 'x' })).json.error.message).toBe('System Peer UUID or ID required');
  });

  it('renames a peer, freeing the old name for another peer', async () => {
    const renamed = await t.call('PATCH', '/v1.0/system-peers/1', { peer_name: 'site-b2' });
    expect(renamed.json['peer-name']).toBe('site-b2');
    expect((await t.call('GET', '/v1.0/system-peers/site-b')).status).toBe(404);
    const other = await t.call('POST', '/v1.0/system-peers', peer({ peer_uuid: '0d8e7b1c-1f8e-4f7c-8a51-2b7f4c9e3a10' }));
    expect(other.status).toBe(200);
    expect(other.json['peer-name']).toBe('site-b');
    const clash = await t.call('PATCH', '/v1.0/system-peers/1', { peer_uuid: '0d8e7b1c-1f8e-4f7c-8a51-2b7f4c9e3a10' });
    expect(clash.status).toBe(409);
  });

  it('deletes a peer; its UUID can be registered again', async () => {
    const r = await t.call('DELETE', '/v1.0/system-peers/site-b');
    expect(r.status).toBe(200);
    expect((await t.call('GET', '/v1.0/system-peers/site-b')).json.error.message).toBe('System Peer not found');
    const again = await t.call('POST', '/v1.0/system-peers', peer({ peer_uuid: '0d8e7b1c-1f8e-4f7c-8a51-2b7f4c9e3a10', peer_name: 'site-c' }));
    expect(again.status).toBe(200);
  });
});
