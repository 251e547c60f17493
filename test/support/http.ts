// One HTTP call to a site under test over undici: JSON in and out, the admin token unless headers override it.
import { request, type Dispatcher } from 'undici';
import { jsonOrUndefined } from '../../adapters/http/json.js';

export interface CallResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

export type Call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<CallResult>;

export function apiCaller(base: string, dispatcher: Dispatcher, token: string): Call {
  return async (method, path, body, headers = {}) => {
    const res = await request(`${base}${path}`, {
      method: method as 'GET',
      dispatcher,
      headers: {
        'x-auth-token': token,
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.body.text();
    const json = jsonOrUndefined(text);
    return { status: res.statusCode, headers: res.headers, text, json: json as any };
  };
}

export type FormCall = (
  method: 'POST' | 'PATCH',
  path: string,
  fields: Record<string, string>,
  files?: Record<string, string>,
  headers?: Record<string, string>,
) => Promise<{ status: number; json: any }>;

/** A multipart call as the dcmanager CLI makes it: text fields, and files sent as `<name>.yaml`. */
export function formCaller(base: string, token: string): FormCall {
  return async (method, path, fields, files = {}, headers = {}) => {
    const body = new FormData();
    for (const [k, v] of Object.entries(fields)) body.set(k, v);
    for (const [k, v] of Object.entries(files)) body.set(k, new Blob([v]), `${k}.yaml`);
    const res = await fetch(`${base}${path}`, { method, body, headers: { 'x-auth-token': token, accept: 'application/json', ...headers } });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as any) : undefined };
  };
}
