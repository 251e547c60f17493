// What every route shares: version document, probes, token, request and correlation ids, error mapping.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSite, type TestSite } from '../support/site.js';

let t: TestSite;
beforeAll(async () => {
  t = await startTestSite();
});
afterAll(async () => t.stop());

describe('platform', () => {
  it('GET / returns the dcmanager version document without a token; other verbs 405', async () => {
    const r = await t.call('GET', '/', undefined, { 'x-auth-token': '' });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      versions: [{ status: 'CURRENT', links: [{ rel: 'self', href: `${t.base}/v1.0/` }], id: 'v1.0', updated: '2017-10-2' }],
    });
    expect((await t.call('POST', '/', {})).status).toBe(405);
  });

  it('health and readiness need no token', async () => {
    expect((await t.call('GET', '/health', undefined, { 'x-auth-token': '' })).json).toEqual({ status: 'ok' });
    const ready = await t.call('GET', '/ready', undefined, { 'x-auth-token': '' });
    expect(ready.status).toBe(200);
    expect(ready.json.status).toBe('ready');
  });

  it('every other route needs X-Auth-Token: 401 without, 401 with a wrong one', async () => {
    for (const path of ['/v1.0/subcloud-groups', '/history/audit', '/v1.0/nothing-here']) {
      const none = await t.call('GET', path, undefined, { 'x-auth-token': '' });
      expect(none.status).toBe(401);
      expect(none.json.error.message).toBe('Failed to validate access token: Authentication required');
      expect((await t.call('GET', path, undefined, { 'x-auth-token': 'wrong-token' })).status).toBe(401);
    }
    const before = (await t.site.eventStore.readAll()).length;
    const write = await t.call('POST', '/v1.0/subcloud-groups', { name: 'a' }, { 'x-auth-token': '' });
    expect(write.status).toBe(401);
    expect((await t.site.eventStore.readAll()).length).toBe(before);
  });

  it('unknown resources are 404 once authenticated', async () => {
    expect((await t.call('GET', '/v1.0/nothing-here')).status).toBe(404);
  });

  it('gives each request an id and carries the correlation id into event metadata', async () => {
    const r = await t.call(
      'POST',
      '/v1.0/subcloud-groups',
      { name: 'traced', description: 'd', update_apply_type: 'parallel', max_parallel_subclouds: 1 },
      { 'x-correlation-id': 'change-ticket-42' },
    );
    expect(r.headers['x-openstack-request-id']).toMatch(/^req-[0-9a-f-]{36}$/);
    expect(r.headers['x-correlation-id']).toBe('change-ticket-42');
    const events = await t.site.eventStore.readStream(`subcloudGroup-${r.json.id}`);
    expect(events[0]!.metadata).toMatchObject({
      correlationId: 'change-ticket-42',
      causationId: r.headers['x-openstack-request-id'],
      actor: { kind: 'user', name: 'admin' },
      schemaVersion: 1,
    });
  });

  it('a store that is down gives 503 and changes nothing', async () => {
    const { StoreUnavailableError } = await import('../../adapters/eventstore/port.js');
    const store = t.site.eventStore;
    const original = store.appendToStream;
    store.appendToStream = async () => {
      throw new StoreUnavailableError('unreachable');
    };
    try {
      const r = await t.call('PATCH', '/v1.0/subcloud-groups/1', { description: 'while down' });
      expect(r.status).toBe(503);
    } finally {
      store.appendToStream = original;
    }
    expect((await t.call('GET', '/v1.0/subcloud-groups/1')).json.description).toBe('Default Subcloud Group');
  });

  it('rejects a malformed Idempotency-Key or If-Match with 400 naming the header', async () => {
    const r = await t.call('PATCH', '/v1.0/subcloud-groups/1', { description: 'x' }, { 'if-match': 'garbage' });
    expect(r.status).toBe(400);
    expect(r.json.error.field).toBe('If-Match');
  });
});
