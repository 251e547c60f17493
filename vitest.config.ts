import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    projects: [
      // Everything, on the embedded stores (SQLite + memory) unless a test picks its own.
      { extends: true, test: { name: 'embedded', include: ['test/**/*.test.ts'] } },
      // The API and projection tests once more on the production adapters: EventStoreDB (gRPC emulator, real client)
      // and MongoDB (wire emulator, real driver). See test/support/site.ts.
      {
        extends: true,
        test: {
          name: 'production',
          include: ['test/api/**/*.test.ts', 'test/projections/**/*.test.ts'],
          env: { FLEETLEDGER_TEST_STORES: 'production' },
        },
      },
    ],
  },
});
