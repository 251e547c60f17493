/**
 * context.ts — state shared by the RPC handlers of one emulator: the log, counters, fault switches and the
 * registry of open calls (so stop() and dropSubscriptions() can end them).
 */
import type { ServerErrorResponse } from '@grpc/grpc-js';
import type { EventLog } from './log.js';

export interface EmulatorStats {
  appendCalls: number;
  batchAppendRequests: number;
  readCalls: number;
  subscriptions: number;
  openSubscriptions: number;
}

export interface OpenCall {
  kind: 'append' | 'batch-append' | 'read' | 'subscription';
  /** Ends the call with the given error status (idempotent). */
  abort(error: ServerErrorResponse): void;
}

export interface EmulatorContext {
  log: EventLog;
  stats: EmulatorStats;
  /** Remaining appends (calls to Append, or BatchAppend requests) to fail with UNAVAILABLE. */
  failAppends: number;
  calls: Set<OpenCall>;
}

/** Registers a call until it finishes; returns the unregister function. */
export function track(ctx: EmulatorContext, call: OpenCall): () => void {
  ctx.calls.add(call);
  return () => ctx.calls.delete(call);
}

/** Consumes one "fail next append" token, if any. */
export function takeAppendFault(ctx: EmulatorContext): boolean {
  if (ctx.failAppends <= 0) return false;
  ctx.failAppends -= 1;
  return true;
}
