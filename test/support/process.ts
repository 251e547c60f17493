// A whole site as a separate OS process (`node --import tsx main.ts`), for tests that kill, restart or run
// several sites: the child can be SIGKILLed mid-write, unlike the in-process site of ./site.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Agent } from 'undici';
import { apiCaller, formCaller, type Call, type CallResult, type FormCall } from './http.js';
import { configSchema } from '../../config.js';

/** The admin token every site process of the tests runs with. */
export const PROCESS_TEST_TOKEN = 'process-test-admin-token-0123456789';

/** Root of the repository: the child's cwd, where main.ts lives. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** tsx's ESM loader as a file URL, so `--import` does not depend on how the child resolves bare names. */
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** Lines of output kept per stream for error messages and debugging. */
const KEPT_LINES = 200;

export interface StartSiteProcessOptions {
  dataDir: string;
  /** Extra or overriding environment (config variables such as READ_YOUR_WRITES_TIMEOUT_MS, or PORT). */
  env?: Record<string, string>;
  /** Extra node flags before the entry point (e.g. --cpu-prof), after the tsx loader. */
  nodeArgs?: string[];
  /** How long to wait for the "listening" log line. */
  startTimeoutMs?: number;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export type { CallResult };

export interface SiteProcess {
  base: string;
  port: number;
  pid: number;
  dataDir: string;
  /** One HTTP call; JSON bodies are sent as JSON, the token is sent unless headers override it. Rejects on network errors. */
  call: Call;
  /** One multipart call (POST/PATCH /v1.0/subclouds), as the dcmanager CLI sends it. */
  form: FormCall;
  /** Sends a signal (default SIGKILL) and returns at once; await `exited` for the exit. */
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM, then waits for the exit (SIGKILL after timeoutMs). Resolves with how the process ended. */
  stopGracefully(timeoutMs?: number): Promise<ProcessExit>;
  /** Resolves when the process has exited, however it ended. */
  exited: Promise<ProcessExit>;
  /** The last lines the process wrote, for diagnostics. */
  output(): { stdout: string[]; stderr: string[] };
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** If the test runner's process exits with children still running (a failed or timed-out test), take them along. */
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/** SIGKILLs every site process this module started that is still running, and waits for them to exit. */
export async function killAllSiteProcesses(): Promise<void> {
  const children = [...live];
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/** The environment of a child: the parent's, minus fleetledger's own variables and NODE_OPTIONS, plus the test's. */
function childEnv(o: StartSiteProcessOptions): Record<string, string> {
  const inherited: Record<string, string> = {};
  const own = new Set([...Object.keys(configSchema.shape), 'NODE_OPTIONS']);
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !own.has(k)) inherited[k] = v;
  return {
    ...inherited,
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: o.dataDir,
    ADMIN_TOKEN: PROCESS_TEST_TOKEN,
    LOG_LEVEL: 'info',
    ...o.env,
  };
}

/** Splits a stream into lines, handing each complete one to `onLine`. */
function lines(stream: NodeJS.ReadableStream, onLine: (line: string) => void) {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    rest += chunk;
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      onLine(rest.slice(0, nl));
      rest = rest.slice(nl + 1);
    }
  });
  stream.on('end', () => {
    if (rest) onLine(rest);
    rest = '';
  });
}

const keep = (buffer: string[], line: string) => {
  buffer.push(line);
  if (buffer.length > KEPT_LINES) buffer.shift();
};

/** Starts `node --import tsx main.ts` on dataDir and resolves once it logs that it listens. */
export async function startSiteProcess(o: StartSiteProcessOptions): Promise<SiteProcess> {
  installExitHook();
  const env = childEnv(o);
  const child = spawn(process.execPath, ['--import', TSX_LOADER, ...(o.nodeArgs ?? []), 'main.ts'], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const stdout: string[] = [];
  const stderr: string[] = [];
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });
  const describe = () =>
    `site process (pid ${child.pid ?? '?'}, DATA_DIR=${o.dataDir})\n` +
    `--- stderr ---\n${stderr.join('\n')}\n--- stdout (last ${KEPT_LINES} lines) ---\n${stdout.join('\n')}`;

  const port = await new Promise<number>((resolve, reject) => {
    const timeoutMs = o.startTimeoutMs ?? 20_000;
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const timer = setTimeout(
      () =>
        settle(() => {
          child.kill('SIGKILL');
          reject(new Error(`no "listening" line within ${timeoutMs} ms from ${describe()}`));
        }),
      timeoutMs,
    );
    child.once('error', (error) => settle(() => reject(new Error(`could not spawn ${describe()}`, { cause: error }))));
    void exited.then(({ code, signal }) =>
      settle(() => reject(new Error(`exited before listening (code ${code}, signal ${signal}): ${describe()}`))),
    );
    lines(child.stderr!, (line) => keep(stderr, line));
    lines(child.stdout!, (line) => {
      keep(stdout, line);
      if (settled || !line.startsWith('{')) return;
      try {
        const entry = JSON.parse(line) as { msg?: unknown; port?: unknown };
        if (typeof entry.msg === 'string' && entry.msg.includes('listening') && typeof entry.port === 'number') {
          const p = entry.port;
          settle(() => resolve(p));
        }
      } catch {
        // not a log line
      }
    });
  });

  const base = `http://127.0.0.1:${port}`;
  const agent = new Agent({ connections: 128 });
  void exited.then(() => agent.close().catch(() => undefined));

  return {
    base,
    port,
    pid: child.pid!,
    dataDir: o.dataDir,
    call: apiCaller(base, agent, PROCESS_TEST_TOKEN),
    form: formCaller(base, PROCESS_TEST_TOKEN),
    kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    async stopGracefully(timeoutMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    exited,
    output: () => ({ stdout: [...stdout], stderr: [...stderr] }),
  };
}
