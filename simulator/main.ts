// npm run simulate -- --subclouds N [--base-address 127.0.10.1] [--port 8120] [--admin-port 8121] [--op-seconds 3]
//   [--seed S] [--output-dir DIR] [--initial-state installed] [--system-mode simplex|duplex|duplex-direct|mixed]
//   [--fault NAME:key[=value][,key=value…]]… [--quiet]
// One process serving N simulated subcloud agents (docs/subcloud-agent.md), one loopback address each.
// --fault examples: subcloud3:unreachable  subcloud4:slowMs=2000  subcloud5:failOperation=bootstrap
//   subcloud6:critical=1,major=2  '*:health=degraded'  (alarm counts: critical, major, minor, warnings)
import { mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEPLOY_STATES, type DeployState, type SystemMode } from '../adapters/subcloudAgent/contract.js';
import { startFleetSimulator } from './fleet.js';
import type { Faults } from './subcloud.js';

function parseFault(spec: string): [string, Faults] {
  const colon = spec.indexOf(':');
  if (colon <= 0) throw new Error(`--fault ${spec}: expected NAME:key[=value],…`);
  const name = spec.slice(0, colon);
  const f: Record<string, unknown> = {};
  const alarms: Record<string, number> = {};
  for (const part of spec.slice(colon + 1).split(',').filter(Boolean)) {
    const [key = '', value] = part.split('=');
    if (['critical', 'major', 'minor', 'warnings'].includes(key)) alarms[key] = Number(value ?? 1);
    else if (key === 'unreachable') f.unreachable = value === undefined || value === 'true';
    else if (key === 'slowMs' || key === 'dropResponses') f[key] = Number(value);
    else if (key === 'failOperation' || key === 'health') f[key] = value;
    else throw new Error(`--fault ${spec}: unknown key ${key}`);
  }
  if (Object.keys(alarms).length) f.alarms = alarms;
  return [name, f as Faults];
}

/** The soft open-files limit (Linux /proc), or undefined elsewhere. */
function openFilesLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft && /^\d+$/.test(soft) ? Number(soft) : undefined;
  } catch {
    return undefined;
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      subclouds: { type: 'string', short: 'n', default: '10' },
      'base-address': { type: 'string', default: '127.0.10.1' },
      port: { type: 'string', default: '8120' },
      'admin-port': { type: 'string', default: '8121' },
      'op-seconds': { type: 'string', default: '3' },
      seed: { type: 'string', default: '1' },
      'output-dir': { type: 'string' },
      'initial-state': { type: 'string', default: 'installed' },
      'system-mode': { type: 'string', default: 'simplex' },
      fault: { type: 'string', multiple: true, default: [] },
      quiet: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const int = (name: string, v: string, min: number) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
    return n;
  };
  const initial = values['initial-state'];
  if (!(DEPLOY_STATES as readonly string[]).includes(initial)) throw new Error(`--initial-state must be one of ${DEPLOY_STATES.join(', ')}`);
  const mode = values['system-mode'];
  if (!['simplex', 'duplex', 'duplex-direct', 'mixed'].includes(mode)) throw new Error('--system-mode: simplex|duplex|duplex-direct|mixed');
  const opSeconds = Number(values['op-seconds']);
  if (!(opSeconds >= 0)) throw new Error('--op-seconds must be a number ≥ 0');
  const outputDir = resolve(values['output-dir'] ?? join(tmpdir(), `fleetledger-sim-${process.pid}`));
  mkdirSync(outputDir, { recursive: true });

  // One descriptor per listener, plus one per open connection (a controller keeps a few per subcloud).
  const subclouds = int('subclouds', values.subclouds, 1);
  const limit = openFilesLimit();
  if (limit !== undefined && subclouds * 2 + 256 > limit) {
    console.warn(`warning: open files limit ${limit} is tight for ${subclouds} listeners and their connections; ` +
      `raise it (ulimit -n ${subclouds * 3 + 256}) if connections fail with EMFILE`);
  }

  const started = performance.now();
  const fleet = await startFleetSimulator({
    subclouds,
    baseAddress: values['base-address'],
    port: int('port', values.port, 1),
    adminPort: int('admin-port', values['admin-port'], 0),
    opDurationMs: Math.round(opSeconds * 1000),
    seed: int('seed', values.seed, 0),
    initialState: initial as DeployState,
    systemMode: mode as SystemMode | 'mixed',
    outputDir,
    faults: Object.fromEntries(values.fault.map(parseFault)),
  });
  const ms = Math.round(performance.now() - started);
  if (!values.quiet) {
    for (const s of fleet.subclouds) {
      const listening = fleet.subcloud(s.name)?.server ? '' : '  (unreachable)';
      console.log(`${s.name}  ${s.address}:${s.port}  bootstrap_values=${s.bootstrapValuesPath ?? '-'}${listening}`);
    }
  }
  const rss = Math.round(process.memoryUsage().rss / 2 ** 20);
  console.log(`${fleet.subclouds.length} subclouds up in ${ms} ms, rss ${rss} MiB; values files in ${outputDir}`);
  console.log(`admin ${fleet.adminUrl}  (GET /subclouds, POST|DELETE /subclouds/{name}/faults, POST /subclouds/{name}/restart)`);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    fleet.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
