// A MongoDB wire-protocol emulator for tests: a TCP server that the official driver talks to as if it were a
// standalone MongoDB 7.0 (wire version 21), backed by in-memory collections and mingo. See docs/mongo-emulator.md.
import net from 'node:net';
import type { Document } from 'bson';
import { runCommand, type ServerState } from './commands.js';
import { Store } from './store.js';
import { encodeReply, parseRequest, splitMessages, type Request } from './wire.js';

export interface MongoEmulator {
  readonly port: number;
  /** mongodb://<host>:<port>/?directConnection=true */
  readonly url: string;
  /** Closes every connection and stops listening (connections are refused); the data is kept. */
  stop(): Promise<void>;
  /** Listens again on the same port, with the same data (open cursors are gone, as after a server restart). */
  restart(): Promise<void>;
  /** Commands answered, by name (unknown ones included). */
  readonly stats: { commands: Record<string, number> };
}

export async function startMongoEmulator(o: { host?: string; port?: number } = {}): Promise<MongoEmulator> {
  const host = o.host ?? '127.0.0.1';
  const state: ServerState = { store: new Store(), cursors: new Map(), nextCursorId: 1_000_001, startedAt: new Date() };
  const stats = { commands: {} as Record<string, number> };
  const sockets = new Set<net.Socket>();
  let nextConnectionId = 1;
  let nextResponseId = 1;
  let server: net.Server | undefined;

  const handle = (socket: net.Socket) => {
    sockets.add(socket);
    const ctx = { connectionId: nextConnectionId++ };
    let pending: Buffer = Buffer.alloc(0);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      try {
        const { messages, rest } = splitMessages(pending);
        pending = rest;
        for (const msg of messages) {
          const request = parseRequest(msg);
          const reply = answer(request, ctx);
          if (!request.noReply) socket.write(encodeReply(request, nextResponseId++, reply));
        }
      } catch {
        socket.destroy(); // a framing error: a real server would close the connection too
      }
    });
  };

  const answer = (request: Request, ctx: { connectionId: number }): Document => {
    const db =
      typeof request.command.$db === 'string'
        ? request.command.$db
        : (request.namespace ?? 'admin').replace(/\.\$cmd$/, '');
    const { name, reply } = runCommand(state, request.command, db, ctx);
    stats.commands[name] = (stats.commands[name] ?? 0) + 1;
    return reply;
  };

  const listen = (port: number) =>
    new Promise<net.Server>((resolve, reject) => {
      const s = net.createServer(handle);
      s.once('error', reject);
      s.listen(port, host, () => {
        s.off('error', reject);
        resolve(s);
      });
    });

  server = await listen(o.port ?? 0);
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    url: `mongodb://${host}:${port}/?directConnection=true`,
    stats,
    async stop() {
      const s = server;
      server = undefined;
      if (!s) return;
      const closed = new Promise<void>((resolve) => s.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      await closed;
      state.cursors.clear();
    },
    async restart() {
      if (server) return;
      server = await listen(port);
    },
  };
}
