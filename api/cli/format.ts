// Rendering for the CLI: event tables, progress bars and summaries. Pure: strings in, strings out.
import type { Actor, RecordedEvent } from '../../adapters/eventstore/port.js';

export const formatActor = (a: Actor | undefined): string => (a ? `${a.kind}:${a.name}` : '-');

const HEADERS = ['REV', 'POSITION', 'OCCURRED AT', 'TYPE', 'ACTOR', 'CORRELATION ID', 'DATA'] as const;

/** One row per event, columns aligned; the data column is compact JSON, never cut. */
export function formatEventTable(events: RecordedEvent[]): string {
  const rows: string[][] = events.map((e) => [
    e.revision.toString(),
    e.position.toString(),
    e.metadata.occurredAt ?? '-',
    e.type,
    formatActor(e.metadata.actor),
    e.metadata.correlationId ?? '-',
    JSON.stringify(e.data) ?? 'null',
  ]);
  const all = [[...HEADERS], ...rows];
  const widths = HEADERS.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return all.map(line).join('\n') + '\n';
}

/** Thousands separators, locale-independent. */
export const formatCount = (n: number | bigint): string => n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** Share of the replay done, from the last applied position and the head at the start (1 for an empty store). */
export function progressFraction(processed: bigint, head: bigint): number {
  if (head <= 0n) return 1;
  const f = Number(processed) / Number(head);
  return Math.min(1, Math.max(0, f));
}

export const formatSeconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;

/** `[##########··········]  50.0%  12,345 events  1.20 s` */
export function renderProgressBar(p: { fraction: number; events: number; elapsedMs: number; width?: number }): string {
  const width = p.width ?? 30;
  const filled = Math.round(p.fraction * width);
  const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
  const pct = `${(p.fraction * 100).toFixed(1)}%`.padStart(6);
  return `[${bar}] ${pct}  ${formatCount(p.events)} events  ${formatSeconds(p.elapsedMs)}`;
}

export const eventsPerSecond = (events: number, elapsedMs: number): number =>
  elapsedMs <= 0 ? (events === 0 ? 0 : Infinity) : Math.round((events * 1000) / elapsedMs);

export function formatRebuildSummary(s: {
  events: number;
  elapsedMs: number;
  documents: { collection: string; count: number }[];
}): string {
  const rate = eventsPerSecond(s.events, s.elapsedMs);
  const docs = s.documents.map((d) => `${d.collection}=${formatCount(d.count)}`).join(', ');
  return (
    `rebuild: replayed ${formatCount(s.events)} events in ${formatSeconds(s.elapsedMs)} ` +
    `(${Number.isFinite(rate) ? formatCount(rate) : '∞'} events/s); documents: ${docs || 'none'}\n`
  );
}

export interface ProgressSink {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/**
 * Progress of a long run on stderr: on a terminal a bar redrawn in place (at most every `redrawMs`),
 * elsewhere (a log file, CI) one line each time another tenth is done.
 */
export function progressReporter(sink: ProgressSink, now: () => number, opts: { redrawMs?: number; label?: string } = {}) {
  const redrawMs = opts.redrawMs ?? 100;
  const label = opts.label ?? 'rebuild';
  const started = now();
  let lastDraw = -Infinity;
  let lastTenth = 0;
  let drawn = false;
  return {
    update(fraction: number, events: number) {
      const t = now();
      if (sink.isTTY) {
        if (t - lastDraw < redrawMs && fraction < 1) return;
        lastDraw = t;
        drawn = true;
        sink.write(`\r${label} ${renderProgressBar({ fraction, events, elapsedMs: t - started })}\x1b[K`);
        return;
      }
      const tenth = Math.floor(fraction * 10);
      if (tenth <= lastTenth) return;
      lastTenth = tenth;
      sink.write(`${label}: ${tenth * 10}% (${formatCount(events)} events, ${formatSeconds(t - started)})\n`);
    },
    /** Ends the bar's line, so what follows starts on a fresh one. */
    done() {
      if (sink.isTTY && drawn) sink.write('\n');
    },
  };
}
