// One HTTP call to a site under test over undici: JSON in and out, the admin token unless headers override it.
import { request, type Dispatcher } from 'undici';

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
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, headers: res.headers, text, json: json as any };
  };
}
