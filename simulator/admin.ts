// The simulator's admin API (127.0.0.1:<admin-port>): look at the fleet, inject and clear faults, restart agents.
//   GET    /subclouds                   every subcloud, summarised
//   GET    /subclouds/{name}            one subcloud with its operations and request counts
//   POST   /subclouds/{name}/faults     merge faults {unreachable, slowMs, failOperation, alarms, health, syncStatus,
//                                      errorResponses, dropResponses}
//   DELETE /subclouds/{name}/faults     clear all faults (reopens the listener)
//   POST   /subclouds/{name}/restart    the agent restarts (running operation → failed 'interrupted')
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readJson, sendJson, type SimContext } from './agentServer.js';
import type { FleetSimulator } from './fleet.js';
import { errorAnswer, faultsSchema, type Answer, type SimSubcloud } from './subcloud.js';

export function summary(s: SimSubcloud, now: number) {
  s.settle(now);
  return {
    name: s.name,
    address: s.address,
    port: s.port,
    listening: s.server !== null,
    deploy_state: s.deployState,
    system_mode: s.systemMode,
    software_version: s.softwareVersion,
    region_name: s.regionName,
    system_controller: s.systemController,
    running_operation: s.running?.id ?? null,
    faults: s.faults,
    requests: s.requests,
    bootstrap_values: s.bootstrapValuesPath ?? null,
    install_values: s.installValuesPath ?? null,
  };
}

const detail = (s: SimSubcloud, now: number) => ({
  ...summary(s, now),
  operations: [...s.operations.values()].map((op) => s.view(op)),
});

export async function startAdminServer(fleet: FleetSimulator, ctx: SimContext, host: string, port: number) {
  const now = () => ctx.clock.now().getTime();
  const route = async (method: string, path: string, req: Parameters<typeof readJson>[0]): Promise<Answer> => {
    if (path === '/subclouds' && method === 'GET') {
      return { status: 200, body: { subclouds: fleet.subclouds.map((i) => summary(fleet.subcloud(i.name) as SimSubcloud, now())) } };
    }
    const m = /^\/subclouds\/([^/]+)(\/faults|\/restart)?$/.exec(path);
    const s = m?.[1] ? fleet.subcloud(decodeURIComponent(m[1])) : undefined;
    if (!m || !s) return errorAnswer(404, 'not_found', m ? `no subcloud ${m[1]}` : `no route ${method} ${path}`);
    const sub = m[2];
    if (!sub && method === 'GET') return { status: 200, body: detail(s, now()) };
    if (sub === '/faults' && method === 'POST') {
      const read = await readJson(req);
      if (!('body' in read)) return read;
      const f = faultsSchema.safeParse(read.body ?? {});
      if (!f.success) {
        return errorAnswer(400, 'bad_request', f.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      }
      await fleet.setFaults(s.name, f.data);
      return { status: 200, body: detail(s, now()) };
    }
    if (sub === '/faults' && method === 'DELETE') {
      await fleet.clearFaults(s.name);
      return { status: 200, body: detail(s, now()) };
    }
    if (sub === '/restart' && method === 'POST') {
      await fleet.restart(s.name);
      return { status: 200, body: detail(s, now()) };
    }
    return errorAnswer(405, 'method_not_allowed', `${method} not allowed on ${path}`);
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://admin').pathname.replace(/\/$/, '');
    route(req.method ?? 'GET', path, req)
      .then((a) => sendJson(res, a))
      .catch((err: unknown) => sendJson(res, errorAnswer(500, 'internal', String(err))));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  return {
    url: `http://${host}:${a.port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
