// History: streams with metadata, state at a revision or a moment, the audit log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSite, type TestSite } from '../support/site.js';

let t: TestSite;
let id: number;
beforeAll(async () => {
  t = await startTestSite();
  t.clock.set('2026-04-01T09:00:00.000Z');
  id = (
    await t.call(
      'POST',
      '/v1.0/subcloud-groups',
      { name: 'audited', description: 'v1', update_apply_type: 'parallel', max_parallel_subclouds: 2 },
      { 'x-correlation-id': 'create-1' },
    )
  ).json.id;
  t.clock.set('2026-04-01T10:00:00.000Z');
  await t.call('PATCH', `/v1.0/subcloud-groups/${id}`, { description: 'v2' }, { 'x-correlation-id': 'edit-2' });
  t.clock.set('2026-04-01T11:00:00.000Z');
  await t.call('PATCH', `/v1.0/subcloud-groups/${id}`, { description: 'v3', name: 'audited2' }, { 'x-correlation-id': 'edit-3' });
});
afterAll(async () => t.stop());

describe('history', () => {
  it('pages through a stream with its metadata', async () => {
    const p1 = await t.call('GET', `/history/streams/subcloudGroup-${id}?limit=2`);
    expect(p1.status).toBe(200);
    expect(p1.json.events.map((e: any) => e.type)).toEqual(['SubcloudGroupAdded', 'SubcloudGroupUpdated']);
    expect(p1.json.events[1].metadata).toMatchObject({ correlationId: 'edit-2', occurredAt: '2026-04-01T10:00:00.000Z' });
    expect(p1.json.next).toEqual({ fromRevision: 2, direction: 'forwards' });
    const p2 = await t.call('GET', `/history/streams/subcloudGroup-${id}?limit=2&fromRevision=2`);
    expect(p2.json.events.map((e: any) => e.revision)).toEqual([2]);
    expect(p2.json.next).toBeNull();
    const back = await t.call('GET', `/history/streams/subcloudGroup-${id}?direction=backwards&limit=1`);
    expect(back.json.events[0].data).toMatchObject({ description: 'v3', name: 'audited2' });
    expect((await t.call('GET', '/history/streams/subcloudGroup-424242')).status).toBe(404);
  });

  it('folds the state at a revision or at a moment', async () => {
    const r0 = await t.call('GET', `/history/subcloudGroup/${id}/state?atRevision=0`);
    expect(r0.json).toMatchObject({ revision: 0, state: { name: 'audited', description: 'v1' } });
    const atTime = await t.call('GET', `/history/subcloudGroup/${id}/state?atTime=2026-04-01T10:30:00Z`);
    expect(atTime.json).toMatchObject({ revision: 1, occurredAt: '2026-04-01T10:00:00.000Z', state: { description: 'v2' } });
    const now = await t.call('GET', `/history/subcloudGroup/${id}/state`);
    expect(now.json.state).toMatchObject({ name: 'audited2', description: 'v3' });
    expect((await t.call('GET', `/history/subcloudGroup/${id}/state?atTime=2020-01-01T00:00:00Z`)).status).toBe(400);
    expect((await t.call('GET', `/history/subcloudGroup/${id}/state?atRevision=abc`)).json.error.field).toBe('atRevision');
    expect((await t.call('GET', '/history/spaceship/1/state')).status).toBe(404);
  });

  it('answers who changed what, newest first, filtered and paged', async () => {
    const all = await t.call('GET', `/history/audit?aggregate=subcloudGroup&entityId=${id}`);
    expect(all.json.entries.map((e: any) => e.type)).toEqual(['SubcloudGroupUpdated', 'SubcloudGroupUpdated', 'SubcloudGroupAdded']);
    expect(all.json.entries[0]).toMatchObject({ actor: 'admin', correlationId: 'edit-3', occurredAt: '2026-04-01T11:00:00.000Z' });
    const byCorrelation = await t.call('GET', '/history/audit?correlationId=create-1');
    // the create reserved the name, took an id and added the group: three events, one request
    expect(byCorrelation.json.entries.map((e: any) => e.type).sort()).toEqual(['IdAllocated', 'SubcloudGroupAdded', 'ValueReserved']);
    const window = await t.call('GET', '/history/audit?from=2026-04-01T09:30:00Z&to=2026-04-01T10:30:00Z');
    expect(window.json.entries.map((e: any) => e.correlationId)).toEqual(['edit-2']);
    const byType = await t.call('GET', '/history/audit?type=ValueReleased');
    expect(byType.json.entries).toHaveLength(1);
    const page1 = await t.call('GET', '/history/audit?limit=2');
    const page2 = await t.call('GET', `/history/audit?limit=2&before=${page1.json.next.before}`);
    expect(BigInt(page2.json.entries[0].position)).toBeLessThan(BigInt(page1.json.entries[1].position));
    expect((await t.call('GET', '/history/audit?actor=nobody')).json.entries).toEqual([]);
    expect((await t.call('GET', '/history/audit?bogus=1')).status).toBe(400);
  });
});
