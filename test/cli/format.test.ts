// CLI rendering: event tables, progress bars and reporters, the rebuild summary.
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../adapters/eventstore/port.js';
import {
  eventsPerSecond,
  formatActor,
  formatCount,
  formatEventTable,
  formatRebuildSummary,
  progressFraction,
  progressReporter,
  renderProgressBar,
} from '../../api/cli/format.js';

const event = (revision: number, position: number, type: string, data: unknown, correlationId: string): RecordedEvent => ({
  streamId: 'subcloudGroup-2',
  id: `e${position}`,
  type,
  revision: BigInt(revision),
  position: BigInt(position),
  data,
  metadata: {
    correlationId,
    causationId: null,
    actor: { kind: 'user', name: 'admin' },
    occurredAt: '2026-03-01T10:00:00.000Z',
    schemaVersion: 1,
  },
  created: new Date('2026-03-01T10:00:00.000Z'),
});

describe('formatEventTable', () => {
  it('aligns every column under its header and never cuts the data', () => {
    const long = { description: 'x'.repeat(300) };
    const out = formatEventTable([
      event(0, 7, 'SubcloudGroupAdded', { name: 'a' }, 'c-1'),
      event(1, 1234, 'SubcloudGroupUpdated', long, 'a-much-longer-correlation-id'),
    ]);
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    const header = lines[0]!;
    for (const col of ['POSITION', 'OCCURRED AT', 'TYPE', 'ACTOR', 'CORRELATION ID', 'DATA']) {
      const at = header.indexOf(col);
      expect(at).toBeGreaterThan(0);
      // Each row's cell in this column starts exactly where its header does, after at least two spaces.
      for (const row of lines.slice(1)) {
        expect(row.slice(at - 2, at)).toBe('  ');
        expect(row[at]).not.toBe(' ');
      }
    }
    expect(lines[1]).toMatch(/^0 {4}7 {9}2026-03-01T10:00:00.000Z {2}SubcloudGroupAdded {4}user:admin {2}c-1 /);
    expect(lines[2]).toContain(JSON.stringify(long));
    expect(out.endsWith('\n')).toBe(true);
  });

  it('prints only the header for no events, and dashes for missing metadata', () => {
    expect(formatEventTable([])).toBe('REV  POSITION  OCCURRED AT  TYPE  ACTOR  CORRELATION ID  DATA\n');
    expect(formatActor(undefined)).toBe('-');
    expect(formatActor({ kind: 'workflow', name: 'orchestrator' })).toBe('workflow:orchestrator');
  });
});

describe('progress', () => {
  it('fraction from the position reached and the head; 1 for an empty store; clamped', () => {
    expect(progressFraction(50n, 200n)).toBe(0.25);
    expect(progressFraction(0n, 0n)).toBe(1);
    expect(progressFraction(300n, 200n)).toBe(1);
  });

  it('renders a bar with percentage, count and time', () => {
    expect(renderProgressBar({ fraction: 0.5, events: 12345, elapsedMs: 1200, width: 10 })).toBe(
      '[#####.....]  50.0%  12,345 events  1.20 s',
    );
    expect(renderProgressBar({ fraction: 1, events: 3, elapsedMs: 15_000, width: 4 })).toBe('[####] 100.0%  3 events  15.0 s');
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatCount(12n)).toBe('12');
  });

  it('off a terminal prints one line per tenth reached, never twice for the same one', () => {
    const lines: string[] = [];
    let t = 0;
    const r = progressReporter({ write: (s: string) => lines.push(s), isTTY: false }, () => t);
    for (let i = 1; i <= 100; i++) {
      t += 10;
      r.update(i / 100, i * 10);
    }
    r.done();
    expect(lines).toHaveLength(10);
    expect(lines.every((l) => l.endsWith('\n') && !l.includes('\r'))).toBe(true);
    expect(lines[0]).toBe('rebuild: 10% (100 events, 0.10 s)\n');
    expect(lines[9]).toBe('rebuild: 100% (1,000 events, 1.00 s)\n');
  });

  it('a jump over several tenths prints one line', () => {
    const lines: string[] = [];
    const r = progressReporter({ write: (s: string) => lines.push(s) }, () => 0, { label: 'replay' });
    r.update(0.05, 1);
    r.update(0.73, 2);
    r.update(0.79, 3);
    expect(lines).toEqual(['replay: 70% (2 events, 0.00 s)\n']);
  });

  it('on a terminal redraws one line in place, at most every redrawMs, always at the end', () => {
    const out: string[] = [];
    let t = 0;
    const r = progressReporter({ write: (s: string) => out.push(s), isTTY: true }, () => t, { redrawMs: 100 });
    r.update(0.1, 1);
    t = 50;
    r.update(0.2, 2); // too soon
    t = 150;
    r.update(0.3, 3);
    t = 160;
    r.update(1, 10); // the end is always drawn
    r.done();
    expect(out).toHaveLength(4);
    expect(out.slice(0, 3).every((s) => s.startsWith('\rrebuild [') && s.endsWith('\x1b[K'))).toBe(true);
    expect(out[2]).toContain('100.0%');
    expect(out[3]).toBe('\n');
  });

  it('done() on a terminal without any drawing writes nothing', () => {
    const out: string[] = [];
    progressReporter({ write: (s: string) => out.push(s), isTTY: true }, () => 0).done();
    expect(out).toEqual([]);
  });
});

describe('formatRebuildSummary', () => {
  it('events, seconds, rate and documents per collection', () => {
    expect(
      formatRebuildSummary({
        events: 12000,
        elapsedMs: 1500,
        documents: [
          { collection: 'subcloud_groups', count: 3 },
          { collection: 'audit_log', count: 12000 },
        ],
      }),
    ).toBe('rebuild: replayed 12,000 events in 1.50 s (8,000 events/s); documents: subcloud_groups=3, audit_log=12,000\n');
  });

  it('an empty store, and a replay too fast to time', () => {
    expect(formatRebuildSummary({ events: 0, elapsedMs: 0, documents: [] })).toBe(
      'rebuild: replayed 0 events in 0.00 s (0 events/s); documents: none\n',
    );
    expect(eventsPerSecond(5, 0)).toBe(Infinity);
    expect(formatRebuildSummary({ events: 5, elapsedMs: 0, documents: [] })).toContain('(∞ events/s)');
  });
});
