// `npm start`: one site on the configured stores (embedded SQLite + in-memory read models by default).
import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createSite, openReadStore } from './site.js';

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`fleetledger: ${error.message}`);
    process.exit(2);
  }
  throw error;
}

const adminToken = config.adminToken ?? randomBytes(24).toString('base64url');
let site: ReturnType<typeof createSite>;
try {
  site = createSite({ config, adminToken, readStore: await openReadStore(config) });
} catch (error) {
  console.error(`fleetledger: cannot open the stores: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
try {
  const { port } = (await site.start({ port: config.port, host: config.host }))!;
  if (!config.adminToken) {
    // Printed once, to the terminal that started the site; never logged.
    process.stdout.write(`\nfleetledger admin token (set ADMIN_TOKEN to choose your own): ${adminToken}\n\n`);
  }
  site.logger.info(
    { host: config.host, port, dataDir: config.dataDir, eventStore: config.eventStore, readStore: config.readStore },
    `fleetledger listening on http://${config.host}:${port}`,
  );
} catch (error) {
  site.logger.fatal({ err: error }, 'fleetledger failed to start');
  process.exit(1);
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    site.logger.info({ signal }, 'stopping');
    site.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
