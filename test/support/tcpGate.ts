// A TCP gate on a loopback port in front of a real server: open, it forwards every connection; shut, it refuses new
// connections and cuts the open ones, as a site whose network went down. Its port stays the same across both.
import { createServer, connect, type Server, type Socket } from 'node:net';

export async function tcpGate(target: { host: string; port: number }, host = '127.0.0.1') {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = connect(target.port, target.host);
        for (const sock of [client, upstream]) {
          sockets.add(sock);
          sock.on('close', () => sockets.delete(sock));
          sock.on('error', () => sock.destroy());
        }
        client.pipe(upstream).pipe(client);
      });
      s.once('error', reject);
      s.listen(port, host, () => {
        port = (s.address() as { port: number }).port;
        server = s;
        resolve();
      });
    });
  await listen();
  return {
    get url() {
      return `http://${host}:${port}`;
    },
    /** Refuse new connections and cut the open ones. */
    async shut() {
      const s = server;
      server = undefined;
      for (const sock of sockets) sock.destroy();
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    /** Forward again, on the same port. */
    open: listen,
  };
}
