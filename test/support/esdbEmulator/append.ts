/**
 * append.ts — Streams.Append (client streaming): the first message carries the options (stream + expected
 * revision), every following one a proposed event. Answers AppendResp.success {current_revision, position} or
 * AppendResp.wrong_expected_version with the new-style fields the client reads.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { ServerReadableStream, sendUnaryData } from '@grpc/grpc-js';
import type { AppendReq, AppendResp } from '@eventstore/db-client/generated/streams_pb.js';
import { grpcError, sharedPb, streamNameOf, streamsPb, unavailable, uuidToString } from './codec.js';
import { takeAppendFault, track } from './context.js';
import type { EmulatorContext } from './context.js';
import type { AppendOutcome, Expected, ProposedEvent } from './log.js';

type ProposedMessage = AppendReq.ProposedMessage;
type ProposedLike = Pick<ProposedMessage, 'getId' | 'getMetadataMap' | 'getData_asU8' | 'getCustomMetadata_asU8'>;

/** Turns a proposed message (Append or BatchAppend, same shape) into a log entry; undefined when invalid. */
export function toProposed(m: ProposedLike): ProposedEvent | string {
  const id = uuidToString(m.getId());
  if (!id) return 'proposed message without id';
  const md = m.getMetadataMap();
  const type = md.get('type');
  if (!type) return `Required Metadata Property 'type' is missing`;
  const contentType = md.get('content-type');
  if (!contentType) return `Required Metadata Property 'content-type' is missing`;
  return { id, type, contentType, data: m.getData_asU8(), customMetadata: m.getCustomMetadata_asU8() };
}

function expectedOf(o: AppendReq.Options): Expected | undefined {
  switch (o.getExpectedStreamRevisionCase()) {
    case streamsPb.AppendReq.Options.ExpectedStreamRevisionCase.ANY: return { kind: 'any' };
    case streamsPb.AppendReq.Options.ExpectedStreamRevisionCase.NO_STREAM: return { kind: 'no_stream' };
    case streamsPb.AppendReq.Options.ExpectedStreamRevisionCase.STREAM_EXISTS: return { kind: 'stream_exists' };
    case streamsPb.AppendReq.Options.ExpectedStreamRevisionCase.REVISION: return { kind: 'revision', revision: BigInt(o.getRevision()) };
    default: return undefined;
  }
}

function toAppendResp(outcome: AppendOutcome): AppendResp {
  const resp = new streamsPb.AppendResp();
  if (outcome.kind === 'success') {
    const s = new streamsPb.AppendResp.Success();
    if (outcome.currentRevision === null) s.setNoStream(new sharedPb.Empty());
    else s.setCurrentRevision(outcome.currentRevision.toString());
    if (outcome.position === null) s.setNoPosition(new sharedPb.Empty());
    else s.setPosition(new streamsPb.AppendResp.Position().setCommitPosition(outcome.position.toString()).setPreparePosition(outcome.position.toString()));
    return resp.setSuccess(s);
  }
  const w = new streamsPb.AppendResp.WrongExpectedVersion();
  if (outcome.current === null) w.setCurrentNoStream(new sharedPb.Empty());
  else w.setCurrentRevision(outcome.current.toString());
  const e = outcome.expected;
  switch (e.kind) {
    case 'any': w.setExpectedAny(new sharedPb.Empty()); break;
    case 'no_stream': w.setExpectedNoStream(new sharedPb.Empty()); break;
    case 'stream_exists': w.setExpectedStreamExists(new sharedPb.Empty()); break;
    case 'revision': w.setExpectedRevision(e.revision.toString()); break;
  }
  return resp.setWrongExpectedVersion(w);
}

export function appendHandler(ctx: EmulatorContext) {
  return (call: ServerReadableStream<AppendReq, AppendResp>, callback: sendUnaryData<AppendResp>): void => {
    ctx.stats.appendCalls += 1;
    let done = false;
    const finish = (err: Parameters<sendUnaryData<AppendResp>>[0], resp?: AppendResp) => {
      if (done) return;
      done = true;
      untrack();
      if (err) callback(err);
      else callback(null, resp);
    };
    const untrack = track(ctx, { kind: 'append', abort: (e) => finish(e) });
    if (takeAppendFault(ctx)) {
      finish(unavailable('Server Is Not Ready (injected fault)'));
      call.on('data', () => undefined);
      return;
    }
    let stream: string | undefined;
    let expected: Expected | undefined;
    const events: ProposedEvent[] = [];
    call.on('data', (req: AppendReq) => {
      if (done) return;
      if (req.hasOptions()) {
        const o = req.getOptions()!;
        stream = streamNameOf(o.getStreamIdentifier());
        expected = expectedOf(o);
        if (stream === undefined || !expected) finish(grpcError(GrpcStatus.INVALID_ARGUMENT, 'Append options need a stream and an expected revision'));
        return;
      }
      if (req.hasProposedMessage()) {
        if (stream === undefined) return finish(grpcError(GrpcStatus.INVALID_ARGUMENT, 'Options must come first'));
        const p = toProposed(req.getProposedMessage()!);
        if (typeof p === 'string') return finish(grpcError(GrpcStatus.INVALID_ARGUMENT, p));
        events.push(p);
      }
    });
    call.on('end', () => {
      if (done) return;
      if (stream === undefined || !expected) return finish(grpcError(GrpcStatus.INVALID_ARGUMENT, 'Append without options'));
      finish(null, toAppendResp(ctx.log.append(stream, expected, events)));
    });
    call.on('cancelled', () => { done = true; untrack(); });
    call.on('error', () => { done = true; untrack(); });
  };
}
