// The EventStoreDB adapter: the shared event store contract through the real @eventstore/db-client, against our
// gRPC emulator on both append paths (BatchAppend, which real 21.10+ servers offer, and classic Append), and against
// a real server when ESDB_URL is set (each test in its own namespace of streams, the server being shared).
import { randomUUID } from 'node:crypto';
import { describe, it } from 'vitest';
import { esdbEventStore } from '../../adapters/eventstore/esdb/store.js';
import { startEsdbEmulator } from '../support/esdbEmulator/index.js';
import { namespacedEventStore } from '../support/namespacedEventStore.js';
import { eventStoreContract } from './eventStore.contract.js';

for (const batchAppend of [true, false]) {
  eventStoreContract(
    `esdb over the emulator (${batchAppend ? 'BatchAppend' : 'classic Append'})`,
    async () => {
      const emulator = await startEsdbEmulator({ batchAppend });
      const store = esdbEventStore({ url: emulator.connectionString });
      return {
        store,
        async cleanup() {
          await store.close();
          await emulator.stop();
        },
      };
    },
    { idChecks: 'from-first-id' },
  );
}

const realServer = process.env.ESDB_URL;
if (realServer) {
  eventStoreContract(
    `esdb on a real server (${realServer})`,
    async () => {
      const inner = esdbEventStore({ url: realServer });
      const store = namespacedEventStore(inner, `contract-${randomUUID().slice(0, 8)}-`);
      return { store, cleanup: () => store.close() };
    },
    { idChecks: 'from-first-id' },
  );
} else {
  console.warn('[contract] event store suite against a real EventStoreDB SKIPPED: ESDB_URL is not set');
  describe.skip('event store contract: esdb on a real server', () => {
    it('needs ESDB_URL (e.g. esdb://127.0.0.1:2113?tls=false)', () => {});
  });
}
