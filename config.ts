// The one place that reads the environment. Everything else receives a Config.
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);

export const configSchema = z.object({
  PORT: port.default(8119),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('./data'),
  EVENT_STORE: z.enum(['sqlite', 'esdb']).default('sqlite'),
  READ_STORE: z.enum(['memory', 'mongo']).default('memory'),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** How long a write waits for the read models to reach its position before answering anyway. */
  READ_YOUR_WRITES_TIMEOUT_MS: z.coerce.number().int().min(0).max(60_000).default(2_000),
});

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  eventStore: 'sqlite' | 'esdb';
  readStore: 'memory' | 'mongo';
  adminToken: string | undefined;
  logLevel: z.infer<typeof configSchema>['LOG_LEVEL'];
  readYourWritesTimeoutMs: number;
}

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid configuration:\n  ${issues.join('\n  ')}`);
  }
}

export function parseConfig(env: Record<string, string | undefined>): Config {
  // An empty variable counts as unset, as in most shells' `VAR= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = configSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  const c = parsed.data;
  return {
    port: c.PORT,
    host: c.HOST,
    dataDir: c.DATA_DIR,
    eventStore: c.EVENT_STORE,
    readStore: c.READ_STORE,
    adminToken: c.ADMIN_TOKEN,
    logLevel: c.LOG_LEVEL,
    readYourWritesTimeoutMs: c.READ_YOUR_WRITES_TIMEOUT_MS,
  };
}

export function loadConfig(): Config {
  return parseConfig(process.env);
}
