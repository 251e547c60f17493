// A free TCP port on 127.0.0.1 for a child process to bind (closed again before it is handed out; the race with
// another process taking it meanwhile is harmless on a test machine). Used by the tests and the benchmarks.
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
