// dcmanager's subcloud-groups API, over HTTP, against a whole site.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSite, type TestSite } from '../support/site.js';

let t: TestSite;
beforeAll(async () => {
  t = await startTestSite();
});
afterAll(async () => t.stop());

const group = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  description: `${name} sites`,
  update_apply_type: 'serial',
  max_parallel_subclouds: 3,
  ...extra,
});
const eventCount = async () => (await t.site.eventStore.readAll()).length;

describe('subcloud-groups', () => {
  it('lists the Default group, with and without a trailing slash', async () => {
    for (const path of ['/v1.0/subcloud-groups', '/v1.0/subcloud-groups/']) {
      const r = await t.call('GET', path);
      expect(r.status).toBe(200);
      expect(r.json.subcloud_groups[0]).toEqual({
        id: 1,
        name: 'Default',
        description: 'Default Subcloud Group',
        update_apply_type: 'parallel',
        max_parallel_subclouds: 2,
        'created-at': null,
        'updated-at': null,
      });
    }
  });

  it('adds a group and serves it by id and by name, keys in dcmanager order', async () => {
    t.clock.set('2026-03-01T10:00:00.250Z');
    const r = await t.call('POST', '/v1.0/subcloud-groups', group('east', { max_parallel_subclouds: '5' }));
    expect(r.status).toBe(200);
    expect(Object.keys(r.json)).toEqual(['id', 'name', 'description', 'update_apply_type', 'max_parallel_subclouds', 'created-at', 'updated-at']);
    expect(r.json).toMatchObject({ name: 'east', max_parallel_subclouds: 5, 'created-at': '2026-03-01 10:00:00.250000', 'updated-at': null });
    expect(r.json.id).toBeGreaterThanOrEqual(2);
    // read your writes: the very next GET shows it
    expect((await t.call('GET', `/v1.0/subcloud-groups/${r.json.id}`)).json).toEqual(r.json);
    expect((await t.call('GET', '/v1.0/subcloud-groups/east')).json).toEqual(r.json);
    expect((await t.call('GET', '/v1.0/subcloud-groups/EAST')).status).toBe(404);
  });

  it('answers 404 Subcloud Group not found', async () => {
    const r = await t.call('GET', '/v1.0/subcloud-groups/9999');
    expect(r.status).toBe(404);
    expect(r.json.error.message).toBe('Subcloud Group not found');
  });

  it('lists the subclouds of a group (none yet) under any second segment', async () => {
    expect((await t.call('GET', '/v1.0/subcloud-groups/Default/subclouds')).json).toEqual({ subclouds: [] });
    expect((await t.call('GET', '/v1.0/subcloud-groups/1/anything')).json).toEqual({ subclouds: [] });
    expect((await t.call('GET', '/v1.0/subcloud-groups/nope/subclouds')).status).toBe(404);
  });

  it.each([
    [{ ...group('x'), name: '42' }, 'Invalid group name'],
    [{ ...group('x'), name: 'DEFAULT' }, 'Invalid group name'],
    [{ ...group('x'), description: '' }, 'Invalid group description'],
    [{ ...group('x'), update_apply_type: 'random' }, 'Invalid group update_apply_type'],
    [{ ...group('x'), max_parallel_subclouds: 501 }, 'Invalid group max_parallel_subclouds'],
    [{ ...group('x'), max_parallel_subclouds: 'abc' }, 'Invalid group max_parallel_subclouds'],
    [{}, 'Body required'],
  ])('refuses %j with 400 %s and records nothing', async (body, message) => {
    const before = await eventCount();
    const r = await t.call('POST', '/v1.0/subcloud-groups', body);
    expect(r.status).toBe(400);
    expect(r.json.error.message).toBe(message);
    expect(await eventCount()).toBe(before);
  });

  it('refuses malformed JSON, wrong body types and unknown fields with 400, naming the problem', async () => {
    const before = await eventCount();
    const bad = await t.call('POST', '/v1.0/subcloud-groups', '{"name": "x",');
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toBe('Request body is malformed.');
    const arr = await t.call('POST', '/v1.0/subcloud-groups', '[1,2]');
    expect(arr.status).toBe(400);
    const unknown = await t.call('POST', '/v1.0/subcloud-groups', { ...group('y'), colour: 'red' });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error).toMatchObject({ message: 'Unknown field in body: colour', field: 'colour' });
    expect(await eventCount()).toBe(before);
  });

  it('refuses a duplicate name with 400 A subcloud group with this name already exists', async () => {
    expect((await t.call('POST', '/v1.0/subcloud-groups', group('dup'))).status).toBe(200);
    const r = await t.call('POST', '/v1.0/subcloud-groups', group('dup'));
    expect(r.status).toBe(400);
    expect(r.json.error.message).toBe('A subcloud group with this name already exists');
    expect((await t.call('POST', '/v1.0/subcloud-groups', group('DUP'))).status).toBe(200); // case-sensitive, as in dcmanager
  });

  it('keeps names unique under concurrent adds', async () => {
    const results = await Promise.all(Array.from({ length: 12 }, () => t.call('POST', '/v1.0/subcloud-groups', group('race'))));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 400)).toHaveLength(11);
    const list = (await t.call('GET', '/v1.0/subcloud-groups')).json.subcloud_groups;
    expect(list.filter((g: any) => g.name === 'race')).toHaveLength(1);
  });

  it('updates fields, renames, and frees the old name', async () => {
    const created = (await t.call('POST', '/v1.0/subcloud-groups', group('west'))).json;
    t.clock.set('2026-03-02T08:30:00.000Z');
    const r = await t.call('PATCH', `/v1.0/subcloud-groups/${created.id}`, { name: 'west2', max_parallel_subclouds: '7' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ id: created.id, name: 'west2', max_parallel_subclouds: 7, 'updated-at': '2026-03-02 08:30:00' });
    expect((await t.call('GET', '/v1.0/subcloud-groups/west')).status).toBe(404);
    expect((await t.call('GET', '/v1.0/subcloud-groups/west2')).json).toEqual(r.json);
    expect((await t.call('POST', '/v1.0/subcloud-groups', group('west'))).status).toBe(200);
    const clash = await t.call('PATCH', '/v1.0/subcloud-groups/west2', { name: 'west' });
    expect(clash.status).toBe(400);
    expect(clash.json.error.message).toBe('A subcloud group with this name already exists');
  });

  it('applies dcmanager update checks in order', async () => {
    expect((await t.call('PATCH', '/v1.0/subcloud-groups/9999', {})).json.error.message).toBe('Body required');
    expect((await t.call('PATCH', '/v1.0/subcloud-groups/9999', { description: 'x' })).status).toBe(404);
    expect((await t.call('PATCH', '/v1.0/subcloud-groups/1', { max_parallel_subclouds: 0 })).json.error.message).toBe('nothing to update');
    expect((await t.call('PATCH', '/v1.0/subcloud-groups/1', { name: 'Other' })).json.error.message).toBe(
      'Default group name cannot be changed',
    );
    const ok = await t.call('PATCH', '/v1.0/subcloud-groups/Default', { max_parallel_subclouds: 4 });
    expect(ok.json).toMatchObject({ id: 1, name: 'Default', max_parallel_subclouds: 4 });
  });

  it('a no-op update appends nothing', async () => {
    const created = (await t.call('POST', '/v1.0/subcloud-groups', group('noop'))).json;
    const before = await eventCount();
    const r = await t.call('PATCH', `/v1.0/subcloud-groups/${created.id}`, { description: created.description });
    expect(r.status).toBe(200);
    expect(r.json).toEqual(created);
    expect(await eventCount()).toBe(before);
  });

  it('deletes a group: 200 null, then 404; the Default group stays', async () => {
    const created = (await t.call('POST', '/v1.0/subcloud-groups', group('gone'))).json;
    const r = await t.call('DELETE', `/v1.0/subcloud-groups/${created.id}`);
    expect(r.status).toBe(200);
    expect(r.text).toBe('null');
    expect((await t.call('GET', `/v1.0/subcloud-groups/${created.id}`)).status).toBe(404);
    expect((await t.call('DELETE', `/v1.0/subcloud-groups/${created.id}`)).status).toBe(404);
    const d = await t.call('DELETE', '/v1.0/subcloud-groups/1');
    expect(d.status).toBe(400);
    expect(d.json.error.message).toBe('Default Subcloud Group may not be deleted');
    // its name is free again
    expect((await t.call('POST', '/v1.0/subcloud-groups', group('gone'))).status).toBe(200);
  });

  it('honours If-Match with 412 and ETag revisions', async () => {
    const created = await t.call('POST', '/v1.0/subcloud-groups', group('tagged'));
    expect(created.headers.etag).toBe('W/"0"');
    const stale = await t.call('PATCH', `/v1.0/subcloud-groups/${created.json.id}`, { description: 'a' }, { 'if-match': 'W/"3"' });
    expect(stale.status).toBe(412);
    const fresh = await t.call('PATCH', `/v1.0/subcloud-groups/${created.json.id}`, { description: 'a' }, { 'if-match': 'W/"0"' });
    expect(fresh.status).toBe(200);
    expect(fresh.headers.etag).toBe('W/"1"');
  });

  it('a retried POST with the same Idempotency-Key creates one group and answers the same', async () => {
    const headers = { 'idempotency-key': 'add-north-1' };
    const first = await t.call('POST', '/v1.0/subcloud-groups', group('north'), headers);
    const before = await eventCount();
    const again = await t.call('POST', '/v1.0/subcloud-groups', group('north'), headers);
    expect(again.status).toBe(200);
    expect(again.json).toEqual(first.json);
    expect(await eventCount()).toBe(before);
    const other = await t.call('POST', '/v1.0/subcloud-groups', group('north', { description: 'changed' }), headers);
    expect(other.status).toBe(422);
  });

  it('renders errors as webob HTML unless JSON is preferred', async () => {
    const r = await t.call('GET', '/v1.0/subcloud-groups/9999', undefined, { accept: '*/*' });
    expect(r.status).toBe(404);
    expect(r.headers['content-type']).toMatch(/text\/html/);
    const text = r.text.replace(/<[^>]+>/g, '').split('\n').map((l) => l.trim()).filter(Boolean);
    expect(text).toEqual(['404 Not Found', '404 Not Found', 'The resource could not be found.', 'Subcloud Group not found']);
  });
});
