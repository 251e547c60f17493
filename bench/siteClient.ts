// A benchmark's calls to a site process over HTTP (JSON and multipart, with the bench's admin token) and its waits
// for a condition, shared by the geo and prestage sections.
import { BENCH_TOKEN, seconds } from './lib.js';

export function siteClient(o: { timeoutSeconds: number; say: (line: string) => void }) {
  const headers = { 'X-Auth-Token': BENCH_TOKEN, Accept: 'application/json' };
  const json = async (base: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...headers, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${base}${path}: ${res.status} ${text.slice(0, 300)}`);
    return text ? (JSON.parse(text) as Record<string, any>) : {};
  };
  const form = async (base: string, method: string, path: string, fields: Record<string, string>, files: Record<string, string> = {}) => {
    const body = new FormData();
    for (const [k, v] of Object.entries(fields)) body.append(k, v);
    for (const [k, v] of Object.entries(files)) body.append(k, new Blob([v]), `${k}.yaml`);
    const res = await fetch(`${base}${path}`, { method, headers, body });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${base}${path}: ${res.status} ${text.slice(0, 300)}`);
  };
  /** Waits until `probe` says yes (polling every pollMs), saying so every 10 s; throws after the timeout. */
  const until = async (what: string, probe: () => Promise<boolean>, pollMs = 500) => {
    const started = performance.now();
    let lastSay = started;
    while (!(await probe())) {
      if (seconds(started) > o.timeoutSeconds) throw new Error(`${what}: not after ${o.timeoutSeconds} s`);
      if (performance.now() - lastSay > 10_000) {
        lastSay = performance.now();
        o.say(`waiting for ${what} (${seconds(started).toFixed(0)} s)`);
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
    return seconds(started);
  };
  return { headers, json, form, until };
}
