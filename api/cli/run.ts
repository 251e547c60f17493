// The CLI as a function: argv and streams in, exit code out. index.ts wires it to the process; tests call it directly.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ConfigError, loadConfig, parseConfig, type Config } from '../../config.js';
import type { EventStore } from '../../adapters/eventstore/port.js';
import type { ReadStore } from '../../adapters/readstore/port.js';
import { UPCASTERS } from '../../domain/aggregates.js';
import { systemClock } from '../../domain/core/clock.js';
import { upcasterRegistry, type UpcasterRegistry } from '../../domain/core/upcasting.js';
import { memoryReadStore } from '../../adapters/readstore/memory.js';
import { loadSecretKeys } from '../../adapters/secrets/keys.js';
import { tokenSigner } from '../../adapters/secrets/tokenSigner.js';
import { systemContext } from '../../commands/core/context.js';
import { commandHandler } from '../../commands/core/handler.js';
import { uniqueness } from '../../commands/core/uniqueness.js';
import { identityCommands } from '../../commands/identity/identity.js';
import { PROJECTS, projectByName, roleByRef, ROLES } from '../../domain/identity/catalog.js';
import { projectionRunner } from '../../projections/core/runner.js';
import { openEventStore, openReadStore, PROJECTIONS, sqliteEventStoreFile } from '../../site.js';
import { presentEvent } from '../history/router.js';
import { aggregateStateAt, requireAggregateKind } from '../history/state.js';
import { readHistoryStream } from '../history/streams.js';
import { parseCli, usage, type CliCommand } from './args.js';
import { formatEventTable, formatRebuildSummary, progressFraction, progressReporter, type ProgressSink } from './format.js';

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export interface CliIo {
  stdout: { write(chunk: string): unknown };
  /** Errors and progress; a bar is drawn when it is a terminal (isTTY). */
  stderr: ProgressSink;
  /** The environment to configure from (through parseConfig); default: the process's, through loadConfig. */
  env?: Record<string, string | undefined>;
  /** Milliseconds, for timing the rebuild; default performance.now. */
  now?: () => number;
  /** Where --password-stdin reads from; default the process's stdin. */
  stdin?: AsyncIterable<Buffer | string>;
}

/** A failure to report as `fleetledger: <message>` with exit code 1. */
class CliFailure extends Error {}

type Deps = { config: Config; io: CliIo; eventStore: EventStore; upcasters: UpcasterRegistry };

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const fail = (message: string, code: number = EXIT.failed) => {
    io.stderr.write(`fleetledger: ${message}\n`);
    return code;
  };

  const parsed = parseCli(argv);
  if (!parsed.ok) {
    io.stderr.write(`fleetledger: ${parsed.error}\n\n${usage(parsed.topic)}`);
    return EXIT.usage;
  }
  const command = parsed.command;
  if (command.kind === 'help') {
    io.stdout.write(usage(command.topic));
    return EXIT.ok;
  }

  let config: Config;
  try {
    config = io.env ? parseConfig(io.env) : loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) return fail(error.message, EXIT.usage);
    throw error;
  }

  let eventStore: EventStore | undefined;
  try {
    eventStore = openExistingEventStore(config);
    const deps: Deps = { config, io, eventStore, upcasters: upcasterRegistry(UPCASTERS) };
    switch (command.kind) {
      case 'history':
        return await history(deps, command);
      case 'state':
        return await state(deps, command);
      case 'rebuild':
        return await rebuild(deps);
      case 'user-create':
        return await userCreate(deps, command);
      default:
        return command satisfies never;
    }
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  } finally {
    await eventStore?.close();
  }
}

/** Opens the configured event store for reading; never creates an empty SQLite database where there is none. */
function openExistingEventStore(config: Config): EventStore {
  if (config.eventStore === 'sqlite') {
    const file = sqliteEventStoreFile(config);
    if (!existsSync(file)) throw new CliFailure(`no event store at ${resolve(file)} (DATA_DIR=${config.dataDir})`);
  }
  return openEventStore(config, systemClock);
}

async function history(d: Deps, c: Extract<CliCommand, { kind: 'history' }>): Promise<number> {
  const events = await readHistoryStream(d.eventStore, c.stream, {
    direction: c.direction,
    ...(c.fromRevision !== undefined ? { fromRevision: c.fromRevision } : {}),
    ...(c.limit !== undefined ? { maxCount: c.limit } : {}),
  });
  if (c.json) {
    for (const e of events) d.io.stdout.write(JSON.stringify(presentEvent(e)) + '\n');
  } else {
    d.io.stdout.write(formatEventTable(events));
  }
  return EXIT.ok;
}

async function state(d: Deps, c: Extract<CliCommand, { kind: 'state' }>): Promise<number> {
  const kind = requireAggregateKind(c.aggregate);
  const view = await aggregateStateAt(d, kind, c.id, {
    ...(c.atRevision !== undefined ? { atRevision: c.atRevision } : {}),
    ...(c.atTime !== undefined ? { atTime: c.atTime } : {}),
  });
  d.io.stdout.write(JSON.stringify(view, null, 2) + '\n');
  return EXIT.ok;
}

async function rebuild(d: Deps): Promise<number> {
  let readStore: ReadStore | undefined;
  try {
    readStore = await openReadStore(d.config);
    const now = d.io.now ?? (() => performance.now());
    const runner = projectionRunner({ eventStore: d.eventStore, readStore, projections: PROJECTIONS, upcasters: d.upcasters });
    const started = now();
    const reporter = progressReporter(d.io.stderr, now);
    const done = await runner.rebuild((p) => reporter.update(progressFraction(p.processed, p.head), p.events));
    reporter.done();
    const elapsedMs = now() - started;
    const collections = [...new Set(PROJECTIONS.map((p) => p.collection))];
    const store = readStore;
    const documents = await Promise.all(
      collections.map(async (collection) => ({ collection, count: await store.count(collection) })),
    );
    d.io.stdout.write(formatRebuildSummary({ events: done.events, elapsedMs, documents }));
    return EXIT.ok;
  } finally {
    await readStore?.close();
  }
}

/** The first line of stdin, without its line end. */
async function readLine(input: AsyncIterable<Buffer | string>): Promise<string> {
  let text = '';
  for await (const chunk of input) {
    text += chunk.toString();
    if (text.includes('\n')) break;
  }
  return text.split(/\r?\n/)[0]!;
}

async function userCreate(d: Deps, c: Extract<CliCommand, { kind: 'user-create' }>): Promise<number> {
  const project = projectByName(c.project);
  if (!project) throw new CliFailure(`no project "${c.project}" (projects: ${PROJECTS.map((p) => p.name).join(', ')})`);
  const roles = c.roles.map((r) => {
    const role = roleByRef(r);
    if (!role) throw new CliFailure(`no role "${r}" (roles: ${ROLES.join(', ')})`);
    return role;
  });
  const generated = c.password === undefined && !c.passwordStdin;
  const password = c.password ?? (c.passwordStdin ? await readLine(d.io.stdin ?? process.stdin) : randomBytes(18).toString('base64url'));
  const readStore = memoryReadStore();
  const handle = commandHandler({ store: d.eventStore, upcasters: d.upcasters });
  const identity = identityCommands({
    handle,
    uniqueness: uniqueness(handle),
    eventStore: d.eventStore,
    upcasters: d.upcasters,
    readStore,
    signer: tokenSigner(loadSecretKeys(d.config)),
    clock: systemClock,
  });
  const r = await identity.createUser(
    { name: c.name, password },
    systemContext(systemClock.now(), 'fleetledger-cli'),
    roles.map((role) => ({ projectId: project.id, role })),
  );
  const id = r.state.status === 'active' ? r.state.id : '?';
  d.io.stdout.write(`created user ${c.name} (id ${id})${roles.length ? ` with ${roles.join(', ')} on project ${project.name}` : ' with no role'}\n`);
  if (generated) d.io.stdout.write(`password: ${password}\n`);
  return EXIT.ok;
}
