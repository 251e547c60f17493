// /v1/pod_managers: registering a Redfish pod manager (a real HTTP server on loopback checking basic auth), its
// status probed with the credentials given, Valence's schema refusals, unique name and url, update and delete. The
// password never shows: not in any answer, not in the logs, not in the read model, and not in clear in the events.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POD_MANAGERS } from '../../commands/composable/podManagers.js';
import { startTestSite, testStores, type TestSite } from '../support/site.js';

const PASSWORD = 'podm-Secret-0xC0FFEE';
const NEW_PASSWORD = 'podm-Rotated-0xBEEF';
let t: TestSite;
let podm: Server;
let podmUrl: string;
const logs: string[] = [];
/** The credentials the pod manager accepts (changed by the test to see the status follow). */
let accepted = `admin:${PASSWORD}`;

beforeAll(async () => {
  podm = createServer((req, res) => {
    const auth = Buffer.from(String(req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString();
    const ok = req.url === '/redfish/v1/' && auth === accepted;
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(ok ? '{"@odata.id":"/redfish/v1/"}' : '{}');
  });
  await new Promise<void>((resolve) => podm.listen(0, '127.0.0.1', resolve));
  podmUrl = `http://127.0.0.1:${(podm.address() as { port: number }).port}`;
  const sink = new Writable({ write: (chunk, _enc, done) => (logs.push(String(chunk)), done()) });
  t = await startTestSite({ logger: pino({ level: 'debug' }, sink) });
});
afterAll(async () => {
  await t?.stop();
  await new Promise<void>((resolve) => podm.close(() => resolve()));
});

const body = (over: Record<string, unknown> = {}) => ({
  name: 'podm-1',
  url: podmUrl,
  authentication: [{ type: 'basic', auth_items: { username: 'admin', password: PASSWORD } }],
  ...over,
});
const answers: string[] = [];
const call = async (method: string, path: string, payload?: unknown) => {
  const r = await t.call(method, path, payload);
  answers.push(r.text);
  return r;
};

describe('/v1/pod_managers', () => {
  let uuid: string;

  it('registers a pod manager, Online when its credentials open the Redfish root; the password shows as ***', async () => {
    const r = await call('POST', '/v1/pod_managers', body({ description: 'rack 7' }));
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({
      name: 'podm-1',
      url: podmUrl,
      driver: 'redfishv1',
      status: 'Online',
      description: 'rack 7',
      authentication: [{ type: 'basic', auth_items: { username: 'admin', password: '***' } }],
    });
    uuid = r.json.uuid;
    expect((await call('GET', `/v1/pod_managers/${uuid}`)).json).toMatchObject({ uuid, status: 'Online' });
    expect((await call('GET', '/v1/pod_managers')).json.map((p: { uuid: string }) => p.uuid)).toEqual([uuid]);
  });

  it('refuses what Valence\'s schema refuses, naming the field, and a duplicate name or url; nothing is appended', async () => {
    const head = await t.site.eventStore.headPosition();
    const cases: [Record<string, unknown>, string][] = [
      [{ url: podmUrl, authentication: body().authentication }, "'name' is a required property"],
      [body({ url: undefined }), "'url' is a required property"],
      [body({ url: 'not a url' }), "'not a url' is not a 'uri'"],
      [body({ authentication: [] }), '[] is too short'],
      [body({ authentication: [{ type: 'basic', auth_items: { username: 'admin' } }] }), "'password' is a required property"],
      [body({ driver: 'ipmi' }), "'ipmi' is not one of ['redfishv1', 'expether']"],
      [body({ colour: 'blue' }), "Additional properties are not allowed ('colour' was unexpected)"],
      [body({ name: 'podm-2' }), 'duplicated name or url !'],
      [body({ url: 'http://127.0.0.9:1' }), 'duplicated name or url !'],
    ];
    for (const [payload, message] of cases) {
      const r = await call('POST', '/v1/pod_managers', JSON.parse(JSON.stringify(payload)));
      expect(r.status, message).toBe(400);
      expect(r.json.error.message).toBe(message);
    }
    expect(await t.site.eventStore.headPosition()).toBe(head);
    expect((await call('GET', '/v1/pod_managers/00000000-0000-4000-8000-000000000000')).json.error.message).toBe(
      'Pod Manager 00000000-0000-4000-8000-000000000000 not found in database.',
    );
  });

  it('new credentials are sealed again and probed: Offline when the pod manager refuses them', async () => {
    accepted = `admin:${PASSWORD}`;
    const r = await call('PATCH', `/v1/pod_managers/${uuid}`, { authentication: [{ type: 'basic', auth_items: { username: 'admin', password: NEW_PASSWORD } }], url: 'http://ignored' });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ status: 'Offline', url: podmUrl });
    accepted = `admin:${NEW_PASSWORD}`;
    expect((await call('PATCH', `/v1/pod_managers/${uuid}`, { authentication: [{ type: 'basic', auth_items: { username: 'admin', password: NEW_PASSWORD } }] })).json.status).toBe('Online');
    expect((await call('PATCH', `/v1/pod_managers/${uuid}`, { name: 'podm-one' })).json.name).toBe('podm-one');
  });

  it('the passwords are nowhere in clear: answers, logs, read model, events and the event store file', async () => {
    await t.site.runner.waitFor(await t.site.eventStore.headPosition(), 5_000);
    const docs = JSON.stringify(await t.site.readStore.find(POD_MANAGERS, {}));
    const events = JSON.stringify(await t.site.eventStore.readAll(), (_k, v) => (typeof v === 'bigint' ? String(v) : v));
    const haystacks = [answers.join('\n'), logs.join(''), docs, events];
    if (testStores() === 'embedded') haystacks.push(readFileSync(join(t.dataDir, 'events.sqlite')).toString('latin1'));
    for (const secret of [PASSWORD, NEW_PASSWORD]) {
      for (const text of haystacks) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(Buffer.from(secret).toString('base64'));
      }
    }
    expect(events).toContain('PodManagerRegistered');
  });

  it('deletes it (Valence\'s answer), and its name and url are free again', async () => {
    const r = await call('DELETE', `/v1/pod_managers/${uuid}`);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ code: '', detail: 'DELETED' });
    expect((await call('GET', `/v1/pod_managers/${uuid}`)).status).toBe(404);
    expect((await call('POST', '/v1/pod_managers', body({ authentication: [{ type: 'basic', auth_items: { username: 'admin', password: NEW_PASSWORD } }] }))).status).toBe(200);
  });
});
