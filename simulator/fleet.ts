// startFleetSimulator: N simulated subclouds in one process, each agent listening on its own loopback
// address (127.x.y.z, sequential from the base) and the same port, plus the admin API on 127.0.0.1.
import type { Server } from 'node:http';
import {
  DEFAULT_AGENT_PORT, type DeployState, type OperationKind, type SystemControllerRef, type SystemMode,
} from '../adapters/subcloudAgent/contract.js';
import { systemClock, type Clock } from '../domain/core/clock.js';
import { loopbackAddresses } from './addresses.js';
import { startAdminServer } from './admin.js';
import { agentServer, listen, shut, type SimContext } from './agentServer.js';
import { DEFAULT_SYSTEMCONTROLLER_GATEWAY, writeValuesFiles } from './bootstrapValues.js';
import { seededRandom } from './random.js';
import { faultsSchema, SimSubcloud, type Faults } from './subcloud.js';

export interface FleetSimulatorOptions {
  subclouds: number;
  /** First subcloud address (default 127.0.10.1); the rest follow, skipping .0 and .255. */
  baseAddress?: string;
  /** The agent port on every address (default 8120). */
  port?: number;
  /** Admin API port on adminHost (default 8121; 0 picks a free one). */
  adminPort?: number;
  adminHost?: string;
  /** Duration of an operation (default 3 s), or per kind. */
  opDurationMs?: number | Partial<Record<OperationKind, number>>;
  clock?: Clock;
  seed?: number;
  namePrefix?: string;
  /** Where each subcloud starts (default 'installed': ready for bootstrap). */
  initialState?: DeployState | ((index: number) => DeployState);
  /** 'mixed': every fourth subcloud duplex. Default simplex. */
  systemMode?: SystemMode | 'mixed';
  softwareVersion?: string;
  /** Who the subclouds that start bootstrapped/configured answer to. */
  systemController?: SystemControllerRef;
  systemControllerGateway?: string;
  /** Write `<name>-bootstrap_values.yaml` and `<name>-install_values.yaml` here. */
  outputDir?: string;
  /** Faults from the start, by subcloud name ('*' for all). */
  faults?: Record<string, Faults>;
  /** Listeners opened at once while starting (default 256). */
  listenConcurrency?: number;
}

export interface SimulatedSubcloudInfo {
  name: string;
  address: string;
  port: number;
  bootstrapValuesPath?: string;
  installValuesPath?: string;
}

export interface FleetSimulator {
  subclouds: SimulatedSubcloudInfo[];
  adminUrl: string;
  port: number;
  subcloud(name: string): SimSubcloud | undefined;
  setFaults(name: string, faults: Faults): Promise<SimSubcloud>;
  clearFaults(name: string): Promise<SimSubcloud>;
  /** The agent restarts: listener and connections close and reopen; the running operation is interrupted. */
  restart(name: string): Promise<SimSubcloud>;
  stop(): Promise<void>;
}

export const DEFAULT_SYSTEM_CONTROLLER: SystemControllerRef = {
  name: 'SystemController', address: '127.0.0.1', region_name: 'RegionOne', uuid: null,
};

async function inBatches<T>(items: T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export async function startFleetSimulator(options: FleetSimulatorOptions): Promise<FleetSimulator> {
  const clock = options.clock ?? systemClock;
  const port = options.port ?? DEFAULT_AGENT_PORT;
  const random = seededRandom(options.seed ?? 1);
  const durations = options.opDurationMs ?? 3_000;
  const ctx: SimContext = {
    clock,
    durationMs: (kind) => typeof durations === 'number' ? durations : durations[kind] ?? 3_000,
  };
  // The site's default SOFTWARE_VERSION, so install values written by the simulator pass the site's check.
  const softwareVersion = options.softwareVersion ?? '24.03';
  const addresses = loopbackAddresses(options.baseAddress ?? '127.0.10.1', options.subclouds);
  const now = clock.now().getTime();
  const subs = addresses.map((address, index) => {
    const mode: SystemMode = options.systemMode === 'mixed' ? (index % 4 === 3 ? 'duplex' : 'simplex') : options.systemMode ?? 'simplex';
    const initial = typeof options.initialState === 'function' ? options.initialState(index) : options.initialState ?? 'installed';
    return new SimSubcloud({
      index, name: `${options.namePrefix ?? 'subcloud'}${index + 1}`, address, port, systemMode: mode,
      initialState: initial, softwareVersion, systemController: options.systemController ?? DEFAULT_SYSTEM_CONTROLLER,
      random, now,
    });
  });
  const byName = new Map(subs.map((s) => [s.name, s]));
  for (const [name, f] of Object.entries(options.faults ?? {})) {
    const targets = name === '*' ? subs : [byName.get(name)].filter((s): s is SimSubcloud => !!s);
    if (!targets.length) throw new Error(`fault for unknown subcloud ${name}`);
    for (const s of targets) s.faults = faultsSchema.parse({ ...f });
  }

  // Listener changes of one subcloud happen one after another.
  const queues = new Map<SimSubcloud, Promise<unknown>>();
  const serial = <T>(s: SimSubcloud, fn: () => Promise<T>): Promise<T> => {
    const p = (queues.get(s) ?? Promise.resolve()).then(fn, fn);
    queues.set(s, p.catch(() => undefined));
    return p;
  };
  const open = async (s: SimSubcloud) => {
    if (s.server) return;
    const server: Server = agentServer(ctx, s);
    try {
      await listen(server, s.address, port);
    } catch (err) {
      throw new Error(`cannot listen on ${s.address}:${port} for ${s.name}: ${(err as Error).message}`, { cause: err });
    }
    s.server = server;
  };
  const close = async (s: SimSubcloud) => {
    const server = s.server;
    s.server = null;
    if (server) await shut(server);
  };
  const reconcile = (s: SimSubcloud) => serial(s, () => (s.faults.unreachable ? close(s) : open(s)));

  const opened: SimSubcloud[] = [];
  try {
    await inBatches(subs, options.listenConcurrency ?? 256, async (s) => {
      if (options.outputDir) {
        const files = await writeValuesFiles(options.outputDir, {
          index: s.index, name: s.name, address: s.address, systemMode: s.systemMode, softwareVersion,
          systemControllerGateway: options.systemControllerGateway ?? DEFAULT_SYSTEMCONTROLLER_GATEWAY,
        });
        s.bootstrapValuesPath = files.bootstrap;
        s.installValuesPath = files.install;
      }
      if (!s.faults.unreachable) {
        await open(s);
        opened.push(s);
      }
    });
  } catch (err) {
    await Promise.all(opened.map(close));
    throw err;
  }

  const find = (name: string) => {
    const s = byName.get(name);
    if (!s) throw Object.assign(new Error(`no subcloud ${name}`), { code: 'not_found' });
    return s;
  };

  const fleet: FleetSimulator = {
    subclouds: subs.map((s) => ({
      name: s.name, address: s.address, port,
      ...(s.bootstrapValuesPath ? { bootstrapValuesPath: s.bootstrapValuesPath } : {}),
      ...(s.installValuesPath ? { installValuesPath: s.installValuesPath } : {}),
    })),
    adminUrl: '',
    port,
    subcloud: (name) => byName.get(name),
    async setFaults(name, faults) {
      const s = find(name);
      const f = faultsSchema.parse(faults);
      const merged: Faults = { ...s.faults, ...f };
      if (merged.failOperation === null) delete merged.failOperation;
      s.faults = merged;
      await reconcile(s);
      return s;
    },
    async clearFaults(name) {
      const s = find(name);
      s.faults = {};
      await reconcile(s);
      return s;
    },
    async restart(name) {
      const s = find(name);
      await serial(s, async () => {
        await close(s);
        s.restart(clock.now().getTime());
        if (!s.faults.unreachable) await open(s);
      });
      return s;
    },
    async stop() {
      await admin.close();
      await Promise.all(subs.map((s) => serial(s, () => close(s))));
    },
  };
  const admin = await startAdminServer(fleet, ctx, options.adminHost ?? '127.0.0.1', options.adminPort ?? 8121)
    .catch(async (err: unknown) => {
      await Promise.all(subs.map(close));
      throw err;
    });
  fleet.adminUrl = admin.url;
  return fleet;
}
