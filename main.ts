// `npm start`: one site on the configured stores (embedded SQLite + in-memory read models by default).
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

let site: ReturnType<typeof createSite>;
try {
  site = createSite({ config, adminToken: config.adminToken, readStore: await openReadStore(config) });
} catch (error) {
  console.error(`fleetledger: cannot open the stores: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
try {
  const { port, generatedAdminPassword } = (await site.start({ port: config.port, host: config.host }))!;
  if (generatedAdminPassword) {
    // Printed once, at the first start, to the terminal that started the site; never logged.
    process.stdout.write(
      `\nfleetledger: created user admin (project admin, role admin) with password: ${generatedAdminPassword}\n` +
        `  (set ADMIN_PASSWORD before the first start to choose it; get a token with POST /v3/auth/tokens)\n\n`,
    );
  }
  site.logger.info(
    { host: config.host, port, dataDir: config.dataDir, eventStore: config.eventStore, readStore: config.readStore },
    `fleetledger listening on ${config.tls ? 'https' : 'http'}://${config.host}:${port}`,
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
