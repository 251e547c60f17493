// multipart/form-data as the dcmanager CLI sends it: text fields and YAML files, limits and malformed bodies as 400s.
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import { errorStatus } from '../../../api/http/errors.js';
import { parseMultipart } from '../../../api/http/multipart.js';

let server: Server;
let base: string;
beforeAll(async () => {
  const app = express();
  app.post('/echo', async (req, res) => {
    try {
      res.json(await parseMultipart(req, { fileBytes: 64, fieldBytes: 32, parts: 4 }));
    } catch (e) {
      res.status(errorStatus(e).status).json({ message: (e as Error).message });
    }
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const post = (body: FormData | string, headers: Record<string, string> = {}) =>
  fetch(`${base}/echo`, { method: 'POST', body, headers }).then(async (r) => ({ status: r.status, json: (await r.json()) as any }));

describe('parseMultipart', () => {
  it('reads text fields and files (content as text, with the file name)', async () => {
    const form = new FormData();
    form.set('bootstrap-address', '10.10.10.12');
    form.set('description', 'edge ü');
    form.set('bootstrap_values', new Blob(['name: subcloud1\nsystem_mode: simplex\n']), 'subcloud1.yaml');
    const r = await post(form);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      fields: { 'bootstrap-address': '10.10.10.12', description: 'edge ü' },
      files: { bootstrap_values: { filename: 'subcloud1.yaml', content: 'name: subcloud1\nsystem_mode: simplex\n' } },
    });
  });

  it('refuses a file over the limit with 413, naming it', async () => {
    const form = new FormData();
    form.set('install_values', new Blob(['x'.repeat(100)]), 'install.yaml');
    const r = await post(form);
    expect(r.status).toBe(413);
    expect(r.json.message).toBe('File install_values is larger than 64 bytes');
  });

  it('refuses a field over the limit and too many parts', async () => {
    const big = new FormData();
    big.set('description', 'd'.repeat(40));
    expect(await post(big)).toEqual({ status: 413, json: { message: 'Form field description is larger than 32 bytes' } });
    const many = new FormData();
    for (let i = 0; i < 6; i++) many.set(`f${i}`, 'v');
    expect((await post(many)).json.message).toBe('Too many parts in the multipart body (at most 4)');
  });

  it('refuses a body that is not multipart, or is cut short', async () => {
    expect((await post('name=x', { 'content-type': 'application/x-www-form-urlencoded' })).status).toBe(400);
    const cut = await post('--b\r\ncontent-disposition: form-data; name="a"\r\n\r\nvalue', { 'content-type': 'multipart/form-data; boundary=b' });
    expect(cut.status).toBe(400);
    expect(cut.json.message).toMatch(/^Malformed multipart body/);
  });
});
