/**
 * index.ts — startEsdbEmulator(): an in-process EventStoreDB gRPC emulator for tests, used with the real,
 * unmodified EventStoreDBClient. Owns the grpc-js Server lifecycle (stop = hard stop, restart = same port, same
 * data) and the fault hooks (dropSubscriptions, failNextAppends). Semantics: docs/esdb-emulator.md.
 */
import { randomUUID } from 'node:crypto';
import { Server, ServerCredentials, status as GrpcStatus } from '@grpc/grpc-js';
import type { ServerErrorResponse, UntypedServiceImplementation } from '@grpc/grpc-js';
import { appendHandler } from './append.js';
import { batchAppendHandler, getSupportedMethodsHandler } from './batchAppend.js';
import { grpcError, nowTicks, serverFeaturesGrpcPb, streamsGrpcPb, unavailable } from './codec.js';
import type { EmulatorContext, EmulatorStats } from './context.js';
import { EventLog } from './log.js';
import { readHandler } from './read.js';

export interface EsdbEmulatorOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0 (ephemeral). */
  port?: number;
  /** Default true: serve ServerFeatures listing Streams/BatchAppend so the client uses BatchAppend; false: no ServerFeatures (UNIMPLEMENTED → classic Append). */
  batchAppend?: boolean;
  /** Default true: every (re)start appends one `$statsCollected` event to `$stats-<host>:<port>`. */
  systemEvents?: boolean;
}

export interface EsdbEmulator {
  readonly port: number;
  readonly connectionString: string;
  /** Hard stop: every open call ends with UNAVAILABLE, the port is closed (connections refused). Data is kept. */
  stop(): Promise<void>;
  /** Listen again on the SAME port with the same data. */
  restart(): Promise<void>;
  /** Ends every open subscription with the given fault; returns how many. */
  dropSubscriptions(fault?: 'unavailable' | 'cancelled' | 'consumer-too-slow'): number;
  /** The next n append calls (either RPC) fail with UNAVAILABLE before writing anything. */
  failNextAppends(n: number): void;
  readonly stats: EmulatorStats;
  /** Every recorded event in log order. */
  recorded(): { streamId: string; id: string; type: string; revision: bigint; position: bigint }[];
}

/** What a real server sends when it drops a gRPC subscriber that cannot keep up (RpcExceptions.Timeout → ABORTED). */
export const CONSUMER_TOO_SLOW_MESSAGE = 'Operation timed out: Consumer too slow to handle event while live. Client resubscription required.';

const SHUTDOWN_GRACE_MS = 250;

function unimplemented(name: string) {
  return (_call: unknown, callback: (e: ServerErrorResponse) => void) =>
    callback(grpcError(GrpcStatus.UNIMPLEMENTED, `${name} is not implemented by the emulator`));
}

export async function startEsdbEmulator(options: EsdbEmulatorOptions = {}): Promise<EsdbEmulator> {
  const host = options.host ?? '127.0.0.1';
  const withBatchAppend = options.batchAppend ?? true;
  const systemEvents = options.systemEvents ?? true;
  const ctx: EmulatorContext = {
    log: new EventLog(nowTicks),
    stats: { appendCalls: 0, batchAppendRequests: 0, readCalls: 0, subscriptions: 0, openSubscriptions: 0 },
    failAppends: 0,
    calls: new Set(),
  };
  let server: Server | undefined;
  let port = options.port ?? 0;

  const listen = async (): Promise<void> => {
    const s = new Server();
    const streams: UntypedServiceImplementation = {
      read: readHandler(ctx),
      append: appendHandler(ctx),
      batchAppend: batchAppendHandler(ctx),
      delete: unimplemented('Streams.Delete'),
      tombstone: unimplemented('Streams.Tombstone'),
    };
    s.addService(streamsGrpcPb.StreamsService, streams);
    if (withBatchAppend) s.addService(serverFeaturesGrpcPb.ServerFeaturesService, { getSupportedMethods: getSupportedMethodsHandler() });
    port = await new Promise<number>((resolve, reject) =>
      s.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    server = s;
    if (systemEvents) {
      ctx.log.append(`$stats-${host}:${port}`, { kind: 'any' }, [{
        id: randomUUID(),
        type: '$statsCollected',
        contentType: 'application/json',
        data: Buffer.from(JSON.stringify({ 'proc-startTime': new Date().toISOString(), 'proc-id': process.pid, 'es-emulator': true })),
        customMetadata: new Uint8Array(),
      }]);
    }
  };

  const stop = async (): Promise<void> => {
    const s = server;
    if (!s) return;
    server = undefined;
    for (const call of [...ctx.calls]) call.abort(unavailable('Server is shutting down'));
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        s.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      s.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  };

  await listen();

  return {
    get port() { return port; },
    get connectionString() { return `esdb://${host}:${port}?tls=false`; },
    stats: ctx.stats,
    stop,
    async restart() {
      await stop();
      await listen();
    },
    dropSubscriptions(fault = 'unavailable') {
      const error = fault === 'cancelled'
        ? grpcError(GrpcStatus.CANCELLED, 'Subscription dropped (injected fault)')
        : fault === 'consumer-too-slow'
          ? grpcError(GrpcStatus.ABORTED, CONSUMER_TOO_SLOW_MESSAGE)
          : unavailable('Subscription dropped (injected fault)');
      const subs = [...ctx.calls].filter((c) => c.kind === 'subscription');
      for (const c of subs) c.abort(error);
      return subs.length;
    },
    failNextAppends(n: number) {
      ctx.failAppends = Math.max(0, Math.floor(n));
    },
    recorded() {
      return ctx.log.events.map((e) => ({ streamId: e.streamId, id: e.id, type: e.type, revision: e.revision, position: e.position }));
    },
  };
}
