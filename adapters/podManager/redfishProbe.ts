// Whether a Redfish pod manager answers: GET <url>/redfish/v1/ with its basic-auth credentials (the status Valence
// shows for a pod manager). Any 2xx is Online; a refusal, an error status or no answer in time is Offline.
import { request } from 'undici';
import type { PodManagerStatus } from '../../domain/composable/podManager.js';

export async function probePodManager(url: string, username: string, password: string, timeoutMs = 5_000): Promise<PodManagerStatus> {
  try {
    const res = await request(`${url}/redfish/v1/`, {
      method: 'GET',
      headers: { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`, accept: 'application/json' },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    await res.body.dump();
    return res.statusCode >= 200 && res.statusCode < 300 ? 'Online' : 'Offline';
  } catch {
    return 'Offline';
  }
}

export type PodManagerProbe = typeof probePodManager;
