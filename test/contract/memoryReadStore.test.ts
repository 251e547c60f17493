// The in-memory read store (Maps + mingo) against the shared read store contract.
import { memoryReadStore } from '../../adapters/readstore/memory.js';
import { readStoreContract } from './readStore.contract.js';

readStoreContract('memory (mingo)', async () => {
  const store = memoryReadStore();
  return { store, cleanup: () => store.close() };
});
