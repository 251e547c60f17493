// A site with a fleet of simulated subclouds ready for prestage: each one added with the simulator's values files,
// recorded deployed (`complete`) and online as the deploy workflow and the audit would, then managed. One more
// simulated host serves as the system controller's own agent (SYSTEM_CONTROLLER_AGENT_ADDRESS: prestage-prepare).
import { readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { subcloudAgentClient } from '../../adapters/subcloudAgent/client.js';
import type { OperationKind, SystemMode } from '../../adapters/subcloudAgent/contract.js';
import { startFleetSimulator, type FleetSimulator } from '../../simulator/fleet.js';
import { freePort } from './net.js';
import { recordDeployedOnline } from './subcloudStates.js';
import { startTestSite, type TestSite } from './site.js';
import { SYSADMIN_B64 } from '../unit/domain/subcloudFixtures.js';

export interface PrestageFleetOptions {
  count: number;
  baseAddress: string;
  /** Each agent operation's duration (real time). */
  opDurationMs?: number | Partial<Record<OperationKind, number>>;
  systemMode?: SystemMode | 'mixed';
  /** Subclouds recorded on another release than the system controller's (their prestage needs the preparation). */
  olderRelease?: string;
}

export interface FleetSubcloud {
  id: number;
  name: string;
  address: string;
}

export async function startPrestageFleet(o: PrestageFleetOptions) {
  const outputDir = await mkdtemp(join(tmpdir(), 'fleetledger-prestage-sim-'));
  const port = await freePort();
  const fleet: FleetSimulator = await startFleetSimulator({
    subclouds: o.count + 1,
    baseAddress: o.baseAddress,
    port,
    adminPort: 0,
    opDurationMs: o.opDurationMs ?? 40,
    initialState: 'configured',
    ...(o.systemMode ? { systemMode: o.systemMode } : {}),
    outputDir,
  });
  const controller = fleet.subclouds[o.count]!;
  const agent = subcloudAgentClient({ port, timeouts: { connectMs: 500, headersMs: 12_000, bodyMs: 2_000 }, retries: 1 });
  const site: TestSite = await startTestSite({ agent, env: { SYSTEM_CONTROLLER_AGENT_ADDRESS: controller.address } });
  const subclouds: FleetSubcloud[] = [];
  for (let i = 0; i < o.count; i++) {
    const sim = fleet.subclouds[i]!;
    const added = await site.form(
      'POST',
      '/v1.0/subclouds/',
      { sysadmin_password: SYSADMIN_B64, 'bootstrap-address': sim.address },
      { bootstrap_values: readFileSync(sim.bootstrapValuesPath!, 'utf8') },
    );
    expect(added.status, JSON.stringify(added.json)).toBe(200);
    const id = added.json.id as number;
    await recordDeployedOnline(site, id, o.olderRelease ? { softwareVersion: o.olderRelease } : {});
    const managed = await site.form('PATCH', `/v1.0/subclouds/${id}`, { 'management-state': 'managed' });
    expect(managed.status, JSON.stringify(managed.json)).toBe(200);
    subclouds.push({ id, name: added.json.name as string, address: sim.address });
  }
  return {
    site,
    fleet,
    subclouds,
    /** The simulated host that answers as the system controller's agent. */
    controller: controller.name,
    /** The kinds of the operations a simulated host ran, oldest first. */
    operationsOf(name: string): OperationKind[] {
      return [...(fleet.subcloud(name)!.operations.values())].sort((a, b) => a.createdAt - b.createdAt).map((op) => op.kind);
    },
    async stop() {
      await site.stop();
      await fleet.stop();
      rmSync(outputDir, { recursive: true, force: true });
    },
  };
}

export type PrestageFleet = Awaited<ReturnType<typeof startPrestageFleet>>;
