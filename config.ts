// The one place that reads the environment. Everything else receives a Config.
import { hostname } from 'node:os';
import { z } from 'zod';
import { isKeyText } from './adapters/secrets/keys.js';

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
  /** EventStoreDB connection string, required with EVENT_STORE=esdb. */
  ESDB_URL: z
    .string()
    .regex(/^esdb(\+discover)?:\/\/[^/?#]+/, 'must be an esdb:// or esdb+discover:// connection string')
    .optional(),
  /** MongoDB connection string, required with READ_STORE=mongo. */
  MONGO_URL: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\/[^/?#]+/, 'must be a mongodb:// or mongodb+srv:// connection string')
    .optional(),
  MONGO_DB: z.string().regex(/^[^/\\. "$*<>:|?]{1,63}$/, 'must be a MongoDB database name').default('fleetledger'),
  /**
   * What this process runs: `all` (API, projections and workflows: one process is the whole site), `api`
   * (the API only; several may run against one read store) or `projector` (projections and workflows, no API).
   */
  ROLE: z.enum(['all', 'api', 'projector']).default('all'),
  /** This system controller's software release: new subclouds report it until their agent says otherwise. */
  SOFTWARE_VERSION: z.string().regex(/^\d+\.\d+$/, 'must look like 24.03').default('24.03'),
  /** This system controller's name: the leader name of the peer groups it leads, what its peers call it. */
  SYSTEM_NAME: z.string().min(1).max(255).optional(),
  /** The system controller's management network; no subcloud's management range may overlap it. */
  SYSTEM_CONTROLLER_MGMT_SUBNET: z.string().min(1).default('192.168.204.0/24'),
  SYSTEM_CONTROLLER_MGMT_START_IP: z.string().min(1).default('192.168.204.2'),
  SYSTEM_CONTROLLER_MGMT_END_IP: z.string().min(1).default('192.168.204.100'),
  /** Port of the subcloud agent API at each subcloud's bootstrap address (docs/subcloud-agent.md). */
  SUBCLOUD_AGENT_PORT: port.default(8120),
  /**
   * Where the system controller's own agent answers (same contract and port as a subcloud's): a prestage of
   * subclouds on another release prepares the shared packages there first (the `prestage-prepare` operation).
   */
  SYSTEM_CONTROLLER_AGENT_ADDRESS: z.string().min(1).default('127.0.0.1'),
  /** Seconds between availability audits of the whole fleet (dcmanager's subcloud_audit_interval). */
  SUBCLOUD_AUDIT_INTERVAL: z.coerce.number().int().min(1).max(86_400).default(30),
  /** Subclouds audited at the same time. */
  SUBCLOUD_AUDIT_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(100),
  /**
   * Multiplies the waits the geo-redundancy workflows take from dcmanager in seconds (a system peer's
   * heartbeat_interval, the wait for a rehomed subcloud to come online and its polls, agent polls): 1 in production;
   * labs and the scenario tests compress time with e.g. 0.02 (a 10 s heartbeat every 0.2 s).
   */
  WORKFLOW_TIME_SCALE: z.coerce.number().min(0.001).max(1).default(1),
  /** The key that seals secrets in events: 32 random bytes in base64. */
  SECRET_KEY: z
    .string()
    .refine(isKeyText, 'must be 32 random bytes in base64 (openssl rand -base64 32)')
    .optional(),
  /** Or a file of such keys, one per line: the first seals, every one opens (key rotation). */
  SECRET_KEY_FILE: z.string().min(1).optional(),
  /** The first start's `admin` user's password (else one is generated and printed once). */
  ADMIN_PASSWORD: z.string().min(8, 'must be at least 8 characters').optional(),
  /** Lifetime of an identity token, seconds (Keystone's default: 1 h). */
  TOKEN_TTL: z.coerce.number().int().min(60).max(7 * 86_400).default(3_600),
  /** How clients reach this site, for the URLs in the token catalog (default: the scheme and Host of the request). */
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** HTTPS: PEM certificate chain and private key (both, or neither). */
  TLS_CERT_FILE: z.string().min(1).optional(),
  TLS_KEY_FILE: z.string().min(1).optional(),
  /** Largest request body accepted, bytes (413 beyond it): JSON bodies and each multipart file. */
  MAX_BODY_BYTES: z.coerce.number().int().min(1_024).max(512 * 1024 * 1024).default(10 * 1024 * 1024),
}).superRefine((c, ctx) => {
  if (Boolean(c.TLS_CERT_FILE) !== Boolean(c.TLS_KEY_FILE)) {
    ctx.addIssue({ code: 'custom', path: [c.TLS_CERT_FILE ? 'TLS_KEY_FILE' : 'TLS_CERT_FILE'], message: 'TLS_CERT_FILE and TLS_KEY_FILE go together' });
  }
  if (c.ROLE !== 'all' && !c.SECRET_KEY && !c.SECRET_KEY_FILE) {
    // A key generated in one process's DATA_DIR would leave the others unable to open what it sealed.
    ctx.addIssue({ code: 'custom', path: ['SECRET_KEY'], message: `SECRET_KEY or SECRET_KEY_FILE is required when ROLE=${c.ROLE} (every process needs the same keys)` });
  }
  if (c.EVENT_STORE === 'esdb' && !c.ESDB_URL) {
    ctx.addIssue({ code: 'custom', path: ['ESDB_URL'], message: 'is required when EVENT_STORE=esdb' });
  }
  if (c.READ_STORE === 'mongo' && !c.MONGO_URL) {
    ctx.addIssue({ code: 'custom', path: ['MONGO_URL'], message: 'is required when READ_STORE=mongo' });
  }
  if (c.ROLE !== 'all' && c.READ_STORE === 'memory') {
    // An in-memory read model is private to its process: the API could never see what a projector wrote.
    ctx.addIssue({ code: 'custom', path: ['ROLE'], message: `${c.ROLE} needs a shared read store (READ_STORE=mongo)` });
  }
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
  esdbUrl: string | undefined;
  mongoUrl: string | undefined;
  mongoDb: string;
  role: 'all' | 'api' | 'projector';
  softwareVersion: string;
  /** SYSTEM_NAME, else the host's name. */
  systemName: string;
  systemControllerManagement: { subnet: string; startIp: string; endIp: string };
  subcloudAgentPort: number;
  systemControllerAgentAddress: string;
  subcloudAuditIntervalSeconds: number;
  subcloudAuditConcurrency: number;
  workflowTimeScale: number;
  secretKey: string | undefined;
  secretKeyFile: string | undefined;
  adminPassword: string | undefined;
  tokenTtlSeconds: number;
  publicUrl: string | undefined;
  tls: { certFile: string; keyFile: string } | undefined;
  maxBodyBytes: number;
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
    esdbUrl: c.ESDB_URL,
    mongoUrl: c.MONGO_URL,
    mongoDb: c.MONGO_DB,
    role: c.ROLE,
    softwareVersion: c.SOFTWARE_VERSION,
    systemName: c.SYSTEM_NAME ?? hostname(),
    systemControllerManagement: {
      subnet: c.SYSTEM_CONTROLLER_MGMT_SUBNET,
      startIp: c.SYSTEM_CONTROLLER_MGMT_START_IP,
      endIp: c.SYSTEM_CONTROLLER_MGMT_END_IP,
    },
    subcloudAgentPort: c.SUBCLOUD_AGENT_PORT,
    systemControllerAgentAddress: c.SYSTEM_CONTROLLER_AGENT_ADDRESS,
    subcloudAuditIntervalSeconds: c.SUBCLOUD_AUDIT_INTERVAL,
    subcloudAuditConcurrency: c.SUBCLOUD_AUDIT_CONCURRENCY,
    workflowTimeScale: c.WORKFLOW_TIME_SCALE,
    secretKey: c.SECRET_KEY,
    secretKeyFile: c.SECRET_KEY_FILE,
    adminPassword: c.ADMIN_PASSWORD,
    tokenTtlSeconds: c.TOKEN_TTL,
    publicUrl: c.PUBLIC_URL,
    tls: c.TLS_CERT_FILE && c.TLS_KEY_FILE ? { certFile: c.TLS_CERT_FILE, keyFile: c.TLS_KEY_FILE } : undefined,
    maxBodyBytes: c.MAX_BODY_BYTES,
  };
}

export function loadConfig(): Config {
  return parseConfig(process.env);
}
