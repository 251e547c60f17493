/**
 * batchAppend.ts — Streams.BatchAppend (one long-lived bidi call per client channel; requests are correlated by
 * UUID and may span several messages until is_final) and ServerFeatures.GetSupportedMethods, which is what makes
 * the real client choose BatchAppend. Wrong expected version comes back as BatchAppendResp.error, a
 * google.rpc.Status whose details Any-packs event_store.client.WrongExpectedVersion.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { ServerDuplexStream, ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import type { BatchAppendReq, BatchAppendResp } from '@eventstore/db-client/generated/streams_pb.js';
import type { SupportedMethods } from '@eventstore/db-client/generated/serverfeatures_pb.js';
import type { Empty } from '@eventstore/db-client/generated/shared_pb.js';
import { toProposed } from './append.js';
import {
  emptyPb, grpcError, rpcStatus, serverFeaturesPb, sharedPb, sharedWrongExpectedVersion, streamIdentifier, streamNameOf,
  streamsPb, stringUuid, unavailable, uuidToString,
} from './codec.js';
import { takeAppendFault, track } from './context.js';
import type { EmulatorContext } from './context.js';
import type { Expected, ProposedEvent } from './log.js';

/** The server version reported by ServerFeatures (a 23.10 LTS server serves the same method list). */
export const EMULATED_SERVER_VERSION = '23.10.0';

interface Pending {
  stream: string;
  expected: Expected;
  deadline?: Date;
  events: ProposedEvent[];
}

function expectedOf(o: BatchAppendReq.Options): Expected | undefined {
  const C = streamsPb.BatchAppendReq.Options.ExpectedStreamPositionCase;
  switch (o.getExpectedStreamPositionCase()) {
    case C.ANY: return { kind: 'any' };
    case C.NO_STREAM: return { kind: 'no_stream' };
    case C.STREAM_EXISTS: return { kind: 'stream_exists' };
    case C.STREAM_POSITION: return { kind: 'revision', revision: BigInt(o.getStreamPosition()) };
    default: return undefined;
  }
}

function baseResp(correlationId: string, p: Pending): BatchAppendResp {
  const resp = new streamsPb.BatchAppendResp();
  resp.setCorrelationId(stringUuid(correlationId));
  resp.setStreamIdentifier(streamIdentifier(p.stream));
  switch (p.expected.kind) {
    case 'any': resp.setAny(new emptyPb.Empty()); break;
    case 'no_stream': resp.setNoStream(new emptyPb.Empty()); break;
    case 'stream_exists': resp.setStreamExists(new emptyPb.Empty()); break;
    case 'revision': resp.setStreamPosition(p.expected.revision.toString()); break;
  }
  return resp;
}

function complete(ctx: EmulatorContext, correlationId: string, p: Pending): BatchAppendResp {
  const resp = baseResp(correlationId, p);
  if (p.deadline && p.deadline.getTime() < Date.now()) {
    const timeout = new sharedPb.Timeout();
    return resp.setError(rpcStatus(GrpcStatus.DEADLINE_EXCEEDED, 'Timeout', { bytes: timeout.serializeBinary(), typeName: 'event_store.client.Timeout' }));
  }
  const outcome = ctx.log.append(p.stream, p.expected, p.events);
  if (outcome.kind === 'wrong-expected-version') {
    const w = sharedWrongExpectedVersion(outcome.current, outcome.expected);
    return resp.setError(rpcStatus(GrpcStatus.FAILED_PRECONDITION, 'WrongExpectedVersion', {
      bytes: w.serializeBinary(),
      typeName: 'event_store.client.WrongExpectedVersion',
    }));
  }
  const s = new streamsPb.BatchAppendResp.Success();
  if (outcome.currentRevision === null) s.setNoStream(new emptyPb.Empty());
  else s.setCurrentRevision(outcome.currentRevision.toString());
  if (outcome.position === null) s.setNoPosition(new emptyPb.Empty());
  else s.setPosition(new sharedPb.AllStreamPosition().setCommitPosition(outcome.position.toString()).setPreparePosition(outcome.position.toString()));
  return resp.setSuccess(s);
}

export function batchAppendHandler(ctx: EmulatorContext) {
  return (call: ServerDuplexStream<BatchAppendReq, BatchAppendResp>): void => {
    const pending = new Map<string, Pending>();
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      untrack();
    };
    const fail = (err: ReturnType<typeof unavailable>) => {
      if (closed) return;
      close();
      call.emit('error', err);
    };
    const untrack = track(ctx, { kind: 'batch-append', abort: fail });
    call.on('cancelled', close);
    call.on('close', close);
    call.on('finish', close);
    call.on('end', () => {
      if (!closed) call.end();
    });
    call.on('data', (req: BatchAppendReq) => {
      if (closed) return;
      const correlationId = uuidToString(req.getCorrelationId());
      if (!correlationId) return fail(grpcError(GrpcStatus.INVALID_ARGUMENT, 'BatchAppendReq without correlation_id'));
      let p = pending.get(correlationId);
      if (!p) {
        const o = req.getOptions();
        const stream = o ? streamNameOf(o.getStreamIdentifier()) : undefined;
        const expected = o ? expectedOf(o) : undefined;
        if (!o || stream === undefined || !expected) return fail(grpcError(GrpcStatus.INVALID_ARGUMENT, 'first BatchAppendReq of a request needs options'));
        p = { stream, expected, events: [], ...(o.hasDeadline() ? { deadline: o.getDeadline()!.toDate() } : {}) };
        pending.set(correlationId, p);
      }
      for (const m of req.getProposedMessagesList()) {
        const e = toProposed(m);
        if (typeof e === 'string') return fail(grpcError(GrpcStatus.INVALID_ARGUMENT, e));
        p.events.push(e);
      }
      if (!req.getIsFinal()) return;
      pending.delete(correlationId);
      ctx.stats.batchAppendRequests += 1;
      // A real server that goes away fails the whole multiplexed call, so an injected fault does the same.
      if (takeAppendFault(ctx)) return fail(unavailable('Server Is Not Ready (injected fault)'));
      call.write(complete(ctx, correlationId, p));
    });
  };
}

/** Methods listed by ServerFeatures, lower-cased as a real server lists them. */
const STREAMS_METHODS = ['read', 'append', 'batchappend'];

export function getSupportedMethodsHandler() {
  return (_call: ServerUnaryCall<Empty, SupportedMethods>, callback: sendUnaryData<SupportedMethods>): void => {
    const methods = new serverFeaturesPb.SupportedMethods();
    for (const name of STREAMS_METHODS) {
      const m = new serverFeaturesPb.SupportedMethod();
      m.setServiceName('event_store.client.streams.streams');
      m.setMethodName(name);
      methods.addMethods(m);
    }
    const sf = new serverFeaturesPb.SupportedMethod();
    sf.setServiceName('event_store.client.server_features.serverfeatures');
    sf.setMethodName('getsupportedmethods');
    methods.addMethods(sf);
    methods.setEventStoreServerVersion(EMULATED_SERVER_VERSION);
    callback(null, methods);
  };
}
