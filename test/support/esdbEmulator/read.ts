/**
 * read.ts — Streams.Read: stream and $all reads (both directions, start/end/revision/position, max count,
 * stream_not_found) and catch-up subscriptions (confirmation, history after an exclusive start, caught_up, then
 * live events in log order; $all filters with periodic checkpoints). Every write respects grpc-js backpressure:
 * when call.write() returns false the pump waits for 'drain', and history is scanned page by page straight from
 * the log, so a large log never turns into a large in-memory queue.
 */
import { randomUUID } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { ServerErrorResponse, ServerWritableStream } from '@grpc/grpc-js';
import type { ReadReq, ReadResp } from '@eventstore/db-client/generated/streams_pb.js';
import {
  caughtUpResp, checkpointResp, confirmationResp, eventResp, grpcError, streamNameOf, streamNotFoundResp, streamsPb,
} from './codec.js';
import { track } from './context.js';
import type { EmulatorContext } from './context.js';
import { buildFilter, READ_BATCH_SIZE } from './filters.js';
import type { EventFilter } from './filters.js';
import type { StoredEvent } from './log.js';

type Call = ServerWritableStream<ReadReq, ReadResp>;
const Options = streamsPb.ReadReq.Options;

class CallClosed extends Error {}

/** Writes one message; waits for 'drain' when grpc-js says its buffer is full. Throws CallClosed once aborted. */
async function send(call: Call, signal: AbortSignal, resp: ReadResp): Promise<void> {
  if (signal.aborted) throw new CallClosed();
  if (call.write(resp)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      call.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    call.once('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
  if (signal.aborted) throw new CallClosed();
}

function countOf(options: ReadReq.Options): number {
  const c = BigInt(options.getCount() || '0');
  return c > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(c);
}

async function readStream(ctx: EmulatorContext, call: Call, signal: AbortSignal, options: ReadReq.Options): Promise<void> {
  const so = options.getStream()!;
  const name = streamNameOf(so.getStreamIdentifier());
  if (name === undefined) throw grpcError(GrpcStatus.INVALID_ARGUMENT, 'stream read without stream_identifier');
  const events = ctx.log.stream(name);
  if (!events || events.length === 0) {
    await send(call, signal, streamNotFoundResp(name));
    return;
  }
  const len = events.length;
  let remaining = countOf(options);
  const backwards = options.getReadDirection() === Options.ReadDirection.BACKWARDS;
  const revCase = so.getRevisionOptionCase();
  const rev = revCase === Options.StreamOptions.RevisionOptionCase.REVISION ? BigInt(so.getRevision()) : undefined;
  if (!backwards) {
    let i = revCase === Options.StreamOptions.RevisionOptionCase.END ? len : rev !== undefined ? (rev >= BigInt(len) ? len : Number(rev)) : 0;
    for (; i < len && remaining > 0; i++, remaining--) await send(call, signal, eventResp(events[i]!, false));
  } else {
    let i = revCase === Options.StreamOptions.RevisionOptionCase.START ? 0 : rev !== undefined ? (rev >= BigInt(len) ? len - 1 : Number(rev)) : len - 1;
    for (; i >= 0 && remaining > 0; i--, remaining--) await send(call, signal, eventResp(events[i]!, false));
  }
}

async function readAll(ctx: EmulatorContext, call: Call, signal: AbortSignal, options: ReadReq.Options, filter?: EventFilter): Promise<void> {
  const ao = options.getAll()!;
  const log = ctx.log;
  const len = log.events.length;
  let remaining = countOf(options);
  const backwards = options.getReadDirection() === Options.ReadDirection.BACKWARDS;
  const at = ao.getAllOptionCase();
  const position = at === Options.AllOptions.AllOptionCase.POSITION ? BigInt(ao.getPosition()!.getCommitPosition()) : undefined;
  const emit = async (e: StoredEvent) => {
    if (filter && !filter.matches(e)) return;
    remaining -= 1;
    await send(call, signal, eventResp(e, true));
  };
  if (!backwards) {
    // forwards from a position is inclusive of an event at exactly that position
    let i = at === Options.AllOptions.AllOptionCase.END ? len : position !== undefined ? log.indexAtOrAfter(position) : 0;
    for (; i < len && remaining > 0; i++) await emit(log.events[i]!);
  } else {
    // backwards from a position: events strictly before it
    let i = at === Options.AllOptions.AllOptionCase.START ? -1 : position !== undefined ? log.indexAtOrAfter(position) - 1 : len - 1;
    for (; i >= 0 && remaining > 0; i--) await emit(log.events[i]!);
  }
}

async function subscribeToStream(ctx: EmulatorContext, call: Call, signal: AbortSignal, options: ReadReq.Options): Promise<void> {
  const so = options.getStream()!;
  const name = streamNameOf(so.getStreamIdentifier());
  if (name === undefined) throw grpcError(GrpcStatus.INVALID_ARGUMENT, 'subscription without stream_identifier');
  await send(call, signal, confirmationResp(randomUUID()));
  const length = () => ctx.log.stream(name)?.length ?? 0;
  let cursor: number;
  switch (so.getRevisionOptionCase()) {
    case Options.StreamOptions.RevisionOptionCase.END: cursor = length(); break;
    case Options.StreamOptions.RevisionOptionCase.REVISION: cursor = Number(BigInt(so.getRevision()) + 1n); break; // exclusive
    default: cursor = 0;
  }
  let caughtUp = false;
  let sinceYield = 0;
  while (!signal.aborted) {
    if (cursor < length()) {
      await send(call, signal, eventResp(ctx.log.stream(name)![cursor++]!, false));
      if (++sinceYield >= READ_BATCH_SIZE) { sinceYield = 0; await yieldToLoop(); }
      continue;
    }
    if (!caughtUp) {
      caughtUp = true;
      await send(call, signal, caughtUpResp());
      continue;
    }
    await ctx.log.nextAppend(signal);
  }
}

async function subscribeToAll(ctx: EmulatorContext, call: Call, signal: AbortSignal, options: ReadReq.Options, filter?: EventFilter): Promise<void> {
  const ao = options.getAll()!;
  const log = ctx.log;
  await send(call, signal, confirmationResp(randomUUID()));
  let cursor: number;
  switch (ao.getAllOptionCase()) {
    case Options.AllOptions.AllOptionCase.END: cursor = log.events.length; break;
    case Options.AllOptions.AllOptionCase.POSITION: {
      // Like the server: read one event at/after the position and start after it (exclusive start; a position
      // between two events therefore also skips the next event — the real server's behaviour, see docs).
      const idx = log.indexAtOrAfter(BigInt(ao.getPosition()!.getCommitPosition()));
      cursor = Math.min(idx + 1, log.events.length);
      break;
    }
    default: cursor = 0;
  }
  let caughtUp = false;
  let scannedSinceCheckpoint = 0;
  while (!signal.aborted) {
    if (cursor < log.events.length && !caughtUp) {
      // catch-up: one page = up to `window` scanned or READ_BATCH_SIZE matching events
      const pageStart = log.events[cursor]!.position;
      const window = filter?.window ?? READ_BATCH_SIZE;
      let scanned = 0;
      let matched = 0;
      let lastMatched: bigint | undefined;
      while (cursor < log.events.length && scanned < window && matched < READ_BATCH_SIZE) {
        const e = log.events[cursor++]!;
        scanned += 1;
        if (filter && !filter.matches(e)) continue;
        matched += 1;
        lastMatched = e.position;
        await send(call, signal, eventResp(e, true));
      }
      if (filter && cursor < log.events.length) {
        scannedSinceCheckpoint += scanned;
        if (scannedSinceCheckpoint >= filter.checkpointInterval) {
          scannedSinceCheckpoint %= filter.checkpointInterval;
          await send(call, signal, checkpointResp(lastMatched ?? pageStart));
        }
      }
      await yieldToLoop();
      continue;
    }
    if (!caughtUp) {
      caughtUp = true;
      await send(call, signal, caughtUpResp());
      continue;
    }
    if (cursor < log.events.length) {
      // live: every appended event in log order; a checkpoint after each `checkpointInterval` scanned events
      let n = 0;
      while (cursor < log.events.length && n < READ_BATCH_SIZE) {
        const e = log.events[cursor++]!;
        n += 1;
        if (!filter || filter.matches(e)) await send(call, signal, eventResp(e, true));
        if (filter && ++scannedSinceCheckpoint >= filter.checkpointInterval) {
          scannedSinceCheckpoint = 0;
          await send(call, signal, checkpointResp(e.position));
        }
      }
      if (n >= READ_BATCH_SIZE) await yieldToLoop();
      continue;
    }
    await log.nextAppend(signal);
  }
}

export function readHandler(ctx: EmulatorContext) {
  return (call: Call): void => {
    const options = call.request.getOptions();
    const subscription = options?.getCountOptionCase() === Options.CountOptionCase.SUBSCRIPTION;
    if (subscription) {
      ctx.stats.subscriptions += 1;
      ctx.stats.openSubscriptions += 1;
    } else {
      ctx.stats.readCalls += 1;
    }
    const ac = new AbortController();
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      ac.abort();
      untrack();
      if (subscription) ctx.stats.openSubscriptions -= 1;
    };
    const fail = (err: ServerErrorResponse) => {
      if (closed) return;
      close();
      call.emit('error', err);
    };
    const untrack = track(ctx, { kind: subscription ? 'subscription' : 'read', abort: fail });
    call.on('cancelled', close);
    call.on('close', close);
    call.on('finish', close);

    const run = async (): Promise<void> => {
      if (!options) throw grpcError(GrpcStatus.INVALID_ARGUMENT, 'ReadReq without options');
      let filter: EventFilter | undefined;
      if (options.getFilterOptionCase() === Options.FilterOptionCase.FILTER) {
        const f = buildFilter(options.getFilter()!);
        if (typeof f === 'string') throw grpcError(GrpcStatus.INVALID_ARGUMENT, f);
        filter = f;
      }
      const onAll = options.getStreamOptionCase() === Options.StreamOptionCase.ALL;
      if (!onAll && options.getStreamOptionCase() !== Options.StreamOptionCase.STREAM) throw grpcError(GrpcStatus.INVALID_ARGUMENT, 'ReadReq needs stream or all');
      if (subscription) {
        if (onAll) await subscribeToAll(ctx, call, ac.signal, options, filter);
        else await subscribeToStream(ctx, call, ac.signal, options);
      } else if (onAll) {
        await readAll(ctx, call, ac.signal, options, filter);
      } else {
        await readStream(ctx, call, ac.signal, options);
      }
    };
    run().then(
      () => {
        if (closed) return;
        call.end();
      },
      (err: unknown) => {
        if (err instanceof CallClosed || closed) return;
        if (err && typeof err === 'object' && 'code' in err) fail(err as ServerErrorResponse);
        else fail(grpcError(GrpcStatus.UNKNOWN, String(err)));
      },
    );
  };
}
