// MongoDB wire protocol framing for the test emulator: the standard 16-byte header, OP_MSG (2013) requests and
// replies, and the legacy OP_QUERY (2004) / OP_REPLY (1) pair the driver still uses for its very first handshake
// (before it knows the server speaks OP_MSG). Only what the emulator needs: no compression (OP_COMPRESSED is never
// advertised, so drivers never send it), no checksum verification (a present checksum is skipped).
import { deserialize, serialize, type Document } from 'bson';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_MSG = 2013;

const HEADER = 16;
const CHECKSUM_PRESENT = 1;
const MORE_TO_COME = 2;

export interface Header {
  length: number;
  requestId: number;
  responseTo: number;
  opCode: number;
}

/** A request as the command layer sees it: one command document (document sequences folded in). */
export interface Request {
  header: Header;
  opCode: typeof OP_MSG | typeof OP_QUERY;
  command: Document;
  /** OP_QUERY only: the full collection name, e.g. `admin.$cmd`. */
  namespace?: string;
  /** OP_MSG moreToCome: the client expects no reply (w:0 writes). */
  noReply: boolean;
}

export class WireError extends Error {}

/** Splits complete messages off the front of buf; returns them and what is left over. */
export function splitMessages(buf: Buffer): { messages: Buffer[]; rest: Buffer } {
  const messages: Buffer[] = [];
  let offset = 0;
  while (buf.length - offset >= 4) {
    const length = buf.readInt32LE(offset);
    if (length < HEADER || length > 64 * 1024 * 1024) throw new WireError(`bad message length ${length}`);
    if (buf.length - offset < length) break;
    messages.push(buf.subarray(offset, offset + length));
    offset += length;
  }
  return { messages, rest: buf.subarray(offset) };
}

function readHeader(msg: Buffer): Header {
  return { length: msg.readInt32LE(0), requestId: msg.readInt32LE(4), responseTo: msg.readInt32LE(8), opCode: msg.readInt32LE(12) };
}

function readCString(msg: Buffer, offset: number): { value: string; next: number } {
  const end = msg.indexOf(0, offset);
  if (end < 0) throw new WireError('unterminated cstring');
  return { value: msg.toString('utf8', offset, end), next: end + 1 };
}

function readDocument(msg: Buffer, offset: number): { doc: Document; next: number } {
  const size = msg.readInt32LE(offset);
  return { doc: deserialize(msg.subarray(offset, offset + size)), next: offset + size };
}

export function parseRequest(msg: Buffer): Request {
  const header = readHeader(msg);
  if (header.opCode === OP_MSG) {
    const flags = msg.readUInt32LE(HEADER);
    const end = flags & CHECKSUM_PRESENT ? msg.length - 4 : msg.length;
    let offset = HEADER + 4;
    let body: Document | undefined;
    const sequences: [string, Document[]][] = [];
    while (offset < end) {
      const kind = msg[offset++];
      if (kind === 0) {
        const r = readDocument(msg, offset);
        body = r.doc;
        offset = r.next;
      } else if (kind === 1) {
        const size = msg.readInt32LE(offset);
        const sectionEnd = offset + size;
        const id = readCString(msg, offset + 4);
        const docs: Document[] = [];
        let p = id.next;
        while (p < sectionEnd) {
          const r = readDocument(msg, p);
          docs.push(r.doc);
          p = r.next;
        }
        sequences.push([id.value, docs]);
        offset = sectionEnd;
      } else {
        throw new WireError(`unknown OP_MSG section kind ${kind}`);
      }
    }
    if (!body) throw new WireError('OP_MSG without a body section');
    // A document sequence (kind 1) is the same as an array field of the command (OP_MSG spec).
    for (const [id, docs] of sequences) body[id] = docs;
    return { header, opCode: OP_MSG, command: body, noReply: (flags & MORE_TO_COME) !== 0 };
  }
  if (header.opCode === OP_QUERY) {
    const ns = readCString(msg, HEADER + 4);
    const { doc } = readDocument(msg, ns.next + 8); // skip numberToSkip and numberToReturn
    // Legacy wrapped form: { $query: {...}, $readPreference: ... }
    const command = doc.$query && typeof doc.$query === 'object' ? (doc.$query as Document) : doc;
    return { header, opCode: OP_QUERY, command, namespace: ns.value, noReply: false };
  }
  throw new WireError(`unsupported opCode ${header.opCode}`);
}

export function encodeReply(request: Request, requestId: number, reply: Document): Buffer {
  const body = serialize(reply);
  if (request.opCode === OP_MSG) {
    const out = Buffer.alloc(HEADER + 4 + 1 + body.length);
    writeHeader(out, requestId, request.header.requestId, OP_MSG);
    out.writeUInt32LE(0, HEADER); // flags
    out[HEADER + 4] = 0; // section kind 0
    out.set(body, HEADER + 5);
    return out;
  }
  // OP_REPLY: responseFlags, cursorID (int64), startingFrom, numberReturned, documents
  const out = Buffer.alloc(HEADER + 20 + body.length);
  writeHeader(out, requestId, request.header.requestId, OP_REPLY);
  out.writeInt32LE(0, HEADER);
  out.writeBigInt64LE(0n, HEADER + 4);
  out.writeInt32LE(0, HEADER + 12);
  out.writeInt32LE(1, HEADER + 16);
  out.set(body, HEADER + 20);
  return out;
}

function writeHeader(out: Buffer, requestId: number, responseTo: number, opCode: number) {
  out.writeInt32LE(out.length, 0);
  out.writeInt32LE(requestId, 4);
  out.writeInt32LE(responseTo, 8);
  out.writeInt32LE(opCode, 12);
}
