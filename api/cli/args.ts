// Command-line parsing for `npm run cli -- <command>`: pure functions from argv to a command (or a usage error).
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { Direction } from '../../adapters/eventstore/port.js';

export const COMMAND_NAMES = ['history', 'state', 'rebuild', 'user'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

export type CliCommand =
  | { kind: 'help'; topic?: CommandName }
  | {
      kind: 'history';
      stream: string;
      fromRevision?: bigint;
      limit?: number;
      direction: Direction;
      json: boolean;
    }
  /** atTime: the date-time as given (validated ISO 8601 with a time zone), as the history API takes it. */
  | { kind: 'state'; aggregate: string; id: string; atRevision?: bigint; atTime?: string }
  | { kind: 'rebuild' }
  /** password: given, read from stdin (`--password-stdin`), or generated and printed once (neither). */
  | { kind: 'user-create'; name: string; roles: string[]; project: string; password?: string; passwordStdin: boolean };

export type ParseResult =
  | { ok: true; command: CliCommand }
  /** A usage error: the message, and the command whose usage to show (all commands when absent). */
  | { ok: false; error: string; topic?: CommandName };

const USAGE: Record<CommandName, string> = {
  history: `fleetledger history <stream> [--from-revision N] [--limit N] [--backwards] [--json]
    Prints the events of one stream (e.g. subcloudGroup-1) with their metadata: revision, global
    position, occurredAt, type, actor, correlationId and data; as an aligned table, or with --json
    as one JSON object per line (the shape of GET /history/streams/{stream}).
      --from-revision N   start at this revision (inclusive; the newest when --backwards)
      --limit N           print at most N events (default: all)
      --backwards         newest first
      --json              JSON lines instead of a table`,
  state: `fleetledger state <aggregate> <id> [--at-revision N | --at-time ISO]
    Folds the stream <aggregate>-<id> and prints the aggregate's state as pretty JSON (the shape
    of GET /history/{aggregate}/{id}/state), now, as of a revision, or as of a moment.
      --at-revision N     fold events up to and including revision N
      --at-time ISO       fold events that occurred at or before this time (ISO 8601 with offset)`,
  rebuild: `fleetledger rebuild
    Replays every event of the event store, from the first, into empty read models through the
    projection runner, showing progress on stderr (a bar on a terminal, a line every 10% otherwise),
    then prints: events replayed, seconds, events/s, and documents per collection.
    With READ_STORE=memory (the embedded default) the rebuilt models live only in this process:
    the command verifies that the whole log replays cleanly and reports what it would build (the
    server rebuilds its own in-memory models at every start). With READ_STORE=mongo it rebuilds
    the shared read models in place: stop the projector first, since they are emptied at the start.`,
  user: `fleetledger user create <name> [--role ROLE]... [--project PROJECT] [--password P | --password-stdin]
    Creates a user of the site's identity service (written to the event store the site uses; the
    site takes it at once) with the given roles on the project (default admin). Roles: admin,
    member, reader, configurator, operator, peer; projects: admin, services. Without a password
    option one is generated and printed once.`,
};

export function usage(topic?: CommandName): string {
  if (topic) return `usage: ${USAGE[topic]}\n`;
  return `usage: npm run cli -- <command> [options]

Works on the stores of the site configured by the same environment as the server
(DATA_DIR, EVENT_STORE, READ_STORE, ...). Only \`user create\` writes events.

commands:
  ${COMMAND_NAMES.map((c) => USAGE[c]).join('\n\n  ')}

  fleetledger help [command]    this text (also --help, -h, or <command> --help)

exit codes: 0 done, 1 failed (e.g. unknown aggregate or stream), 2 usage or configuration error
`;
}

const isCommandName = (s: string | undefined): s is CommandName =>
  s !== undefined && (COMMAND_NAMES as readonly string[]).includes(s);

/** A decimal integer within bounds, or a message naming the option. */
export function parseInteger(option: string, raw: string, min: number): number | string {
  if (!/^\d+$/.test(raw)) return `${option} must be an integer, got "${raw}"`;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) return `${option} must be an integer of at least ${min}, got "${raw}"`;
  return n;
}

const isoDateTime = z.iso.datetime({ offset: true });

/** An ISO 8601 date-time with a time zone (Z or an offset), as the history API accepts. */
export function parseIsoTime(option: string, raw: string): Date | string {
  if (!isoDateTime.safeParse(raw).success) {
    return `${option} must be an ISO 8601 date-time with a time zone, such as 2026-03-01T10:00:00Z; got "${raw}"`;
  }
  return new Date(raw);
}

type Options = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

/** node:util parseArgs in strict mode, with its errors turned into messages. */
type ParsedOptions =
  | { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] }
  | { error: string };

function parseOptions(args: string[], options: Options): ParsedOptions {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Record<string, string | boolean | string[] | undefined>, positionals };
  } catch (error) {
    return { error: (error as Error).message.split('\n')[0]! };
  }
}

export function parseCli(argv: string[]): ParseResult {
  const [first, ...rest] = argv;
  if (first === undefined) return { ok: false, error: 'no command given' };
  if (first === 'help' || first === '--help' || first === '-h') {
    const topic = rest[0];
    if (topic === undefined) return { ok: true, command: { kind: 'help' } };
    if (isCommandName(topic) && rest.length === 1) return { ok: true, command: { kind: 'help', topic } };
    return { ok: false, error: `no help for "${rest.join(' ')}"` };
  }
  switch (first) {
    case 'history':
      return parseHistory(rest);
    case 'state':
      return parseState(rest);
    case 'rebuild':
      return parseRebuild(rest);
    case 'user':
      return parseUser(rest);
    default:
      return { ok: false, error: `unknown command "${first}"` };
  }
}

function parseHistory(args: string[]): ParseResult {
  const topic = 'history';
  const p = parseOptions(args, {
    'from-revision': { type: 'string' },
    limit: { type: 'string' },
    backwards: { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if ('error' in p) return { ok: false, error: p.error, topic };
  if (p.values.help) return { ok: true, command: { kind: 'help', topic } };
  if (p.positionals.length !== 1) {
    return { ok: false, error: p.positionals.length === 0 ? 'missing <stream>' : 'expected one <stream>', topic };
  }
  const command: Extract<CliCommand, { kind: 'history' }> = {
    kind: 'history',
    stream: p.positionals[0]!,
    direction: p.values.backwards ? 'backwards' : 'forwards',
    json: p.values.json === true,
  };
  if (typeof p.values['from-revision'] === 'string') {
    const n = parseInteger('--from-revision', p.values['from-revision'], 0);
    if (typeof n === 'string') return { ok: false, error: n, topic };
    command.fromRevision = BigInt(n);
  }
  if (typeof p.values.limit === 'string') {
    const n = parseInteger('--limit', p.values.limit, 1);
    if (typeof n === 'string') return { ok: false, error: n, topic };
    command.limit = n;
  }
  return { ok: true, command };
}

function parseState(args: string[]): ParseResult {
  const topic = 'state';
  const p = parseOptions(args, { 'at-revision': { type: 'string' }, 'at-time': { type: 'string' } });
  if ('error' in p) return { ok: false, error: p.error, topic };
  if (p.values.help) return { ok: true, command: { kind: 'help', topic } };
  if (p.positionals.length !== 2) {
    return { ok: false, error: `expected <aggregate> <id>, got ${p.positionals.length} argument(s)`, topic };
  }
  const atRevision = p.values['at-revision'];
  const atTime = p.values['at-time'];
  if (typeof atRevision === 'string' && typeof atTime === 'string') {
    return { ok: false, error: 'give --at-revision or --at-time, not both', topic };
  }
  const command: Extract<CliCommand, { kind: 'state' }> = {
    kind: 'state',
    aggregate: p.positionals[0]!,
    id: p.positionals[1]!,
  };
  if (typeof atRevision === 'string') {
    const n = parseInteger('--at-revision', atRevision, 0);
    if (typeof n === 'string') return { ok: false, error: n, topic };
    command.atRevision = BigInt(n);
  }
  if (typeof atTime === 'string') {
    const t = parseIsoTime('--at-time', atTime);
    if (typeof t === 'string') return { ok: false, error: t, topic };
    command.atTime = atTime;
  }
  return { ok: true, command };
}

function parseRebuild(args: string[]): ParseResult {
  const topic = 'rebuild';
  const p = parseOptions(args, {});
  if ('error' in p) return { ok: false, error: p.error, topic };
  if (p.values.help) return { ok: true, command: { kind: 'help', topic } };
  if (p.positionals.length > 0) return { ok: false, error: `unexpected argument "${p.positionals[0]}"`, topic };
  return { ok: true, command: { kind: 'rebuild' } };
}

function parseUser(args: string[]): ParseResult {
  const topic = 'user';
  const p = parseOptions(args, {
    role: { type: 'string', multiple: true },
    project: { type: 'string' },
    password: { type: 'string' },
    'password-stdin': { type: 'boolean' },
  });
  if ('error' in p) return { ok: false, error: p.error, topic };
  if (p.values.help) return { ok: true, command: { kind: 'help', topic } };
  const [verb, name, ...extra] = p.positionals;
  if (verb !== 'create') return { ok: false, error: verb === undefined ? 'missing "create"' : `unknown user command "${verb}"`, topic };
  if (name === undefined || extra.length > 0) return { ok: false, error: 'expected one <name>', topic };
  if (typeof p.values.password === 'string' && p.values['password-stdin']) return { ok: false, error: 'give --password or --password-stdin, not both', topic };
  return {
    ok: true,
    command: {
      kind: 'user-create',
      name,
      roles: (p.values.role as string[] | undefined) ?? [],
      project: typeof p.values.project === 'string' ? p.values.project : 'admin',
      ...(typeof p.values.password === 'string' ? { password: p.values.password } : {}),
      passwordStdin: p.values['password-stdin'] === true,
    },
  };
}
