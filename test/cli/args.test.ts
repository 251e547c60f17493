// CLI argument parsing: each command, its options, usage errors that name the option, help.
import { describe, expect, it } from 'vitest';
import { COMMAND_NAMES, parseCli, parseInteger, parseIsoTime, usage } from '../../api/cli/args.js';

const ok = (argv: string[]) => {
  const r = parseCli(argv);
  if (!r.ok) throw new Error(`expected ${argv.join(' ')} to parse, got: ${r.error}`);
  return r.command;
};
const err = (argv: string[]) => {
  const r = parseCli(argv);
  if (r.ok) throw new Error(`expected ${argv.join(' ')} to be refused`);
  return r;
};

describe('cli args: history', () => {
  it('takes a stream, forwards, all events, as a table by default', () => {
    expect(ok(['history', 'subcloudGroup-1'])).toEqual({
      kind: 'history',
      stream: 'subcloudGroup-1',
      direction: 'forwards',
      json: false,
    });
  });

  it('takes --from-revision, --limit, --backwards and --json in any order', () => {
    expect(ok(['history', '--json', 'subcloudGroup-2', '--limit', '5', '--backwards', '--from-revision=3'])).toEqual({
      kind: 'history',
      stream: 'subcloudGroup-2',
      direction: 'backwards',
      json: true,
      fromRevision: 3n,
      limit: 5,
    });
    expect(ok(['history', 's', '--from-revision', '0'])).toMatchObject({ fromRevision: 0n });
  });

  it('refuses bad numbers, naming the option', () => {
    expect(err(['history', 's', '--limit', '0'])).toEqual({
      ok: false,
      error: '--limit must be an integer of at least 1, got "0"',
      topic: 'history',
    });
    expect(err(['history', 's', '--limit', 'ten']).error).toBe('--limit must be an integer, got "ten"');
    expect(err(['history', 's', '--from-revision', '-1']).error).toMatch(/--from-revision/);
    expect(err(['history', 's', '--from-revision', '1.5']).error).toBe('--from-revision must be an integer, got "1.5"');
  });

  it('refuses a missing or extra stream, unknown options and options without a value', () => {
    expect(err(['history'])).toMatchObject({ error: 'missing <stream>', topic: 'history' });
    expect(err(['history', 'a', 'b'])).toMatchObject({ error: 'expected one <stream>', topic: 'history' });
    expect(err(['history', 's', '--frobnicate']).error).toMatch(/--frobnicate/);
    expect(err(['history', 's', '--limit']).error).toMatch(/--limit/);
  });
});

describe('cli args: state', () => {
  it('takes an aggregate and an id, optionally a revision or a moment', () => {
    expect(ok(['state', 'subcloudGroup', '2'])).toEqual({ kind: 'state', aggregate: 'subcloudGroup', id: '2' });
    expect(ok(['state', 'subcloudGroup', '2', '--at-revision', '0'])).toMatchObject({ atRevision: 0n });
    expect(ok(['state', 'subcloudGroup', '2', '--at-time', '2026-03-01T10:00:00+01:00'])).toMatchObject({
      atTime: '2026-03-01T10:00:00+01:00',
    });
  });

  it('refuses both --at-revision and --at-time, bad values, and the wrong number of arguments', () => {
    expect(err(['state', 'g', '1', '--at-revision', '1', '--at-time', '2026-03-01T10:00:00Z'])).toMatchObject({
      error: 'give --at-revision or --at-time, not both',
      topic: 'state',
    });
    expect(err(['state', 'g', '1', '--at-revision', 'x']).error).toBe('--at-revision must be an integer, got "x"');
    expect(err(['state', 'g', '1', '--at-time', '2026-03-01']).error).toMatch(/^--at-time must be an ISO 8601 date-time/);
    expect(err(['state', 'g', '1', '--at-time', '2026-03-01T10:00:00']).error).toMatch(/with a time zone/);
    expect(err(['state', 'g']).error).toBe('expected <aggregate> <id>, got 1 argument(s)');
    expect(err(['state', 'g', '1', '2']).error).toBe('expected <aggregate> <id>, got 3 argument(s)');
  });
});

describe('cli args: rebuild, help and unknown commands', () => {
  it('rebuild takes no arguments', () => {
    expect(ok(['rebuild'])).toEqual({ kind: 'rebuild' });
    expect(err(['rebuild', 'now'])).toMatchObject({ error: 'unexpected argument "now"', topic: 'rebuild' });
    expect(err(['rebuild', '--fast']).error).toMatch(/--fast/);
  });

  it('help, --help, -h, help <command> and <command> --help', () => {
    for (const h of ['help', '--help', '-h']) expect(ok([h])).toEqual({ kind: 'help' });
    for (const c of COMMAND_NAMES) {
      expect(ok(['help', c])).toEqual({ kind: 'help', topic: c });
      expect(ok([c, '--help'])).toEqual({ kind: 'help', topic: c });
    }
    expect(ok(['history', '-h'])).toEqual({ kind: 'help', topic: 'history' });
    expect(err(['help', 'nope'])).toEqual({ ok: false, error: 'no help for "nope"' });
  });

  it('refuses no command and unknown commands, with the general usage', () => {
    expect(err([])).toEqual({ ok: false, error: 'no command given' });
    expect(err(['frobnicate'])).toEqual({ ok: false, error: 'unknown command "frobnicate"' });
  });

  it('usage names every command, or only the one asked about', () => {
    const all = usage();
    for (const c of COMMAND_NAMES) expect(all).toContain(`fleetledger ${c}`);
    expect(all).toContain('exit codes: 0 done, 1 failed');
    const one = usage('state');
    expect(one).toMatch(/^usage: fleetledger state <aggregate> <id>/);
    expect(one).not.toContain('fleetledger history');
  });
});

describe('cli args: values', () => {
  it('parseInteger and parseIsoTime', () => {
    expect(parseInteger('--n', '42', 0)).toBe(42);
    expect(parseInteger('--n', '99999999999999999999', 0)).toMatch(/--n must be an integer of at least 0/);
    expect(parseIsoTime('--t', '2026-03-01T10:00:00.000Z')).toEqual(new Date('2026-03-01T10:00:00.000Z'));
    expect(parseIsoTime('--t', 'tomorrow')).toMatch(/^--t must be/);
  });
});
