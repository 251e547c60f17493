/**
 * codec.ts — protobuf plumbing for the emulator: imports of the client's generated message classes (CommonJS,
 * loaded through default imports), stream-name / UUID conversions, and builders for the response messages the
 * real client parses (ReadResp, positions, wrong-expected-version details, gRPC error objects with the
 * `exception` trailing metadata that the client's convertToCommandError understands).
 */
import { Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import type { ServerErrorResponse } from '@grpc/grpc-js';
import streamsPb from '@eventstore/db-client/generated/streams_pb.js';
import sharedPb from '@eventstore/db-client/generated/shared_pb.js';
import statusPb from '@eventstore/db-client/generated/status_pb.js';
import serverFeaturesPb from '@eventstore/db-client/generated/serverfeatures_pb.js';
import streamsGrpcPb from '@eventstore/db-client/generated/streams_grpc_pb.js';
import serverFeaturesGrpcPb from '@eventstore/db-client/generated/serverfeatures_grpc_pb.js';
import anyPb from 'google-protobuf/google/protobuf/any_pb.js';
import emptyPb from 'google-protobuf/google/protobuf/empty_pb.js';
import type { ReadResp } from '@eventstore/db-client/generated/streams_pb.js';
import type { StreamIdentifier, UUID } from '@eventstore/db-client/generated/shared_pb.js';
import type { StoredEvent, Expected } from './log.js';

export { streamsPb, sharedPb, statusPb, serverFeaturesPb, streamsGrpcPb, serverFeaturesGrpcPb, anyPb, emptyPb };

/** 100-ns ticks since the Unix epoch, as .NET writes `created`. */
export const nowTicks = (): bigint => BigInt(Date.now()) * 10_000n;

export function streamNameOf(identifier: StreamIdentifier | undefined): string | undefined {
  if (!identifier) return undefined;
  return Buffer.from(identifier.getStreamName_asU8()).toString('utf8');
}

export function streamIdentifier(name: string): StreamIdentifier {
  const id = new sharedPb.StreamIdentifier();
  id.setStreamName(Buffer.from(name, 'utf8'));
  return id;
}

/** Accepts both UUID encodings (the client always sends `string`). Returns undefined when missing. */
export function uuidToString(uuid: UUID | undefined): string | undefined {
  if (!uuid) return undefined;
  if (uuid.hasString()) return uuid.getString().toLowerCase();
  if (uuid.hasStructured()) {
    const s = uuid.getStructured();
    if (!s) return undefined;
    const hex = (v: string) => BigInt.asUintN(64, BigInt(v)).toString(16).padStart(16, '0');
    const h = hex(s.getMostSignificantBits()) + hex(s.getLeastSignificantBits());
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  return undefined;
}

export function stringUuid(id: string): UUID {
  const uuid = new sharedPb.UUID();
  uuid.setString(id);
  return uuid;
}

/** ReadResp carrying one event; `withCommitPosition` for $all reads/subscriptions (ReadEvent.commit_position). */
export function eventResp(e: StoredEvent, withCommitPosition: boolean): ReadResp {
  const rec = new streamsPb.ReadResp.ReadEvent.RecordedEvent();
  rec.setId(stringUuid(e.id));
  rec.setStreamIdentifier(streamIdentifier(e.streamId));
  rec.setStreamRevision(e.revision.toString());
  rec.setPreparePosition(e.position.toString());
  rec.setCommitPosition(e.position.toString());
  const md = rec.getMetadataMap();
  md.set('type', e.type);
  md.set('content-type', e.contentType);
  md.set('created', e.created.toString());
  rec.setData(e.data);
  rec.setCustomMetadata(e.customMetadata);
  const readEvent = new streamsPb.ReadResp.ReadEvent();
  readEvent.setEvent(rec);
  if (withCommitPosition) readEvent.setCommitPosition(e.position.toString());
  else readEvent.setNoPosition(new sharedPb.Empty());
  const resp = new streamsPb.ReadResp();
  resp.setEvent(readEvent);
  return resp;
}

export function confirmationResp(subscriptionId: string): ReadResp {
  const c = new streamsPb.ReadResp.SubscriptionConfirmation();
  c.setSubscriptionId(subscriptionId);
  return new streamsPb.ReadResp().setConfirmation(c);
}

export function caughtUpResp(): ReadResp {
  return new streamsPb.ReadResp().setCaughtUp(new streamsPb.ReadResp.CaughtUp());
}

export function checkpointResp(position: bigint): ReadResp {
  const c = new streamsPb.ReadResp.Checkpoint();
  c.setCommitPosition(position.toString());
  c.setPreparePosition(position.toString());
  return new streamsPb.ReadResp().setCheckpoint(c);
}

export function streamNotFoundResp(name: string): ReadResp {
  const nf = new streamsPb.ReadResp.StreamNotFound();
  nf.setStreamIdentifier(streamIdentifier(name));
  return new streamsPb.ReadResp().setStreamNotFound(nf);
}

/** The shared WrongExpectedVersion detail (BatchAppend packs it into google.rpc.Status.details). */
export function sharedWrongExpectedVersion(current: bigint | null, expected: Expected) {
  const w = new sharedPb.WrongExpectedVersion();
  if (current === null) w.setCurrentNoStream(new emptyPb.Empty());
  else w.setCurrentStreamRevision(current.toString());
  switch (expected.kind) {
    case 'any': w.setExpectedAny(new emptyPb.Empty()); break;
    case 'no_stream': w.setExpectedNoStream(new emptyPb.Empty()); break;
    case 'stream_exists': w.setExpectedStreamExists(new emptyPb.Empty()); break;
    case 'revision': w.setExpectedStreamPosition(expected.revision.toString()); break;
  }
  return w;
}

/** google.rpc.Status with an Any-packed detail, as BatchAppendResp.error carries it. */
export function rpcStatus(code: number, message: string, detail?: { bytes: Uint8Array; typeName: string }) {
  const s = new statusPb.Status();
  s.setCode(code);
  s.setMessage(message);
  if (detail) {
    const any = new anyPb.Any();
    any.pack(detail.bytes, detail.typeName);
    s.setDetails(any);
  }
  return s;
}

/** A gRPC error for callbacks / emit('error'), with EventStoreDB's `exception` trailing metadata when given. */
export function grpcError(code: GrpcStatus, details: string, meta: Record<string, string> = {}): ServerErrorResponse {
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(meta)) metadata.set(k, v);
  return Object.assign(new Error(details), { code, details, metadata });
}

export const unavailable = (why = 'Server Is Not Ready') => grpcError(GrpcStatus.UNAVAILABLE, why);

export const streamDeletedError = (stream: string) =>
  grpcError(GrpcStatus.FAILED_PRECONDITION, `Event stream '${stream}' is deleted.`, {
    exception: 'stream-deleted',
    'stream-name': stream,
  });
