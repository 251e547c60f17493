// Configuration: defaults, parsing, and a process that refuses to start on a bad variable, naming it.
import { hostname } from 'node:os';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../config.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** A well-formed SECRET_KEY. */
const KEY = Buffer.alloc(32, 7).toString('base64');

describe('parseConfig', () => {
  it('gives the documented defaults on an empty environment', () => {
    expect(parseConfig({})).toEqual({
      port: 8119,
      host: '127.0.0.1',
      dataDir: './data',
      eventStore: 'sqlite',
      readStore: 'memory',
      adminToken: undefined,
      logLevel: 'info',
      readYourWritesTimeoutMs: 2000,
      esdbUrl: undefined,
      mongoUrl: undefined,
      mongoDb: 'fleetledger',
      role: 'all',
      softwareVersion: '24.03',
      systemName: hostname(),
      systemControllerManagement: { subnet: '192.168.204.0/24', startIp: '192.168.204.2', endIp: '192.168.204.100' },
      subcloudAgentPort: 8120,
      systemControllerAgentAddress: '127.0.0.1',
      subcloudAuditIntervalSeconds: 30,
      subcloudAuditConcurrency: 100,
      workflowTimeScale: 1,
      tokenTtlSeconds: 3600,
      maxBodyBytes: 10 * 1024 * 1024,
    });
  });

  it('reads every variable and treats an empty one as unset', () => {
    const c = parseConfig({
      PORT: '9000',
      HOST: '0.0.0.0',
      DATA_DIR: '/var/lib/fleetledger',
      EVENT_STORE: 'sqlite',
      READ_STORE: 'memory',
      ADMIN_TOKEN: 'a-long-enough-token',
      LOG_LEVEL: 'warn',
      READ_YOUR_WRITES_TIMEOUT_MS: '500',
      HOME: '/ignored',
    });
    expect(c).toMatchObject({ port: 9000, host: '0.0.0.0', dataDir: '/var/lib/fleetledger', adminToken: 'a-long-enough-token', logLevel: 'warn', readYourWritesTimeoutMs: 500 });
    expect(parseConfig({ PORT: '' }).port).toBe(8119);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ EVENT_STORE: 'postgres' }, 'EVENT_STORE'],
    [{ READ_STORE: 'redis' }, 'READ_STORE'],
    [{ ADMIN_TOKEN: 'short' }, 'ADMIN_TOKEN'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ READ_YOUR_WRITES_TIMEOUT_MS: '-1' }, 'READ_YOUR_WRITES_TIMEOUT_MS'],
    [{ EVENT_STORE: 'esdb' }, 'ESDB_URL'],
    [{ EVENT_STORE: 'esdb', ESDB_URL: 'http://localhost:2113' }, 'ESDB_URL'],
    [{ READ_STORE: 'mongo' }, 'MONGO_URL'],
    [{ READ_STORE: 'mongo', MONGO_URL: 'localhost:27017' }, 'MONGO_URL'],
    [{ MONGO_DB: 'a.b' }, 'MONGO_DB'],
    [{ ROLE: 'worker' }, 'ROLE'],
    [{ ROLE: 'api', SECRET_KEY: KEY }, 'ROLE'],
    [{ SECRET_KEY: 'c2hvcnQ=' }, 'SECRET_KEY'],
    [{ READ_STORE: 'mongo', MONGO_URL: 'mongodb://m:27017', ROLE: 'projector' }, 'SECRET_KEY'],
  ])('rejects %o naming %s', (env, variable) => {
    let error: unknown;
    try {
      parseConfig(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toHaveLength(1);
    expect((error as ConfigError).issues[0]).toMatch(new RegExp(`^${variable}: `));
  });

  it('reads the production store settings', () => {
    const c = parseConfig({
      EVENT_STORE: 'esdb',
      ESDB_URL: 'esdb://esdb:2113?tls=false',
      READ_STORE: 'mongo',
      MONGO_URL: 'mongodb://mongo:27017/?replicaSet=rs0',
      MONGO_DB: 'site_a',
      ROLE: 'api',
      SECRET_KEY: KEY,
    });
    expect(c).toMatchObject({ eventStore: 'esdb', esdbUrl: 'esdb://esdb:2113?tls=false', readStore: 'mongo', mongoUrl: 'mongodb://mongo:27017/?replicaSet=rs0', mongoDb: 'site_a', role: 'api', secretKey: KEY });
  });

  it('reads the identity and HTTPS settings; a certificate needs its key', () => {
    const c = parseConfig({ ADMIN_PASSWORD: 'first-admin-pw', TOKEN_TTL: '600', PUBLIC_URL: 'https://dc.example:8119', TLS_CERT_FILE: '/etc/fl/cert.pem', TLS_KEY_FILE: '/etc/fl/key.pem', MAX_BODY_BYTES: '4096' });
    expect(c).toMatchObject({ adminPassword: 'first-admin-pw', tokenTtlSeconds: 600, publicUrl: 'https://dc.example:8119', tls: { certFile: '/etc/fl/cert.pem', keyFile: '/etc/fl/key.pem' }, maxBodyBytes: 4096 });
    expect(() => parseConfig({ TLS_CERT_FILE: '/etc/fl/cert.pem' })).toThrow(/TLS_KEY_FILE: TLS_CERT_FILE and TLS_KEY_FILE go together/);
    expect(() => parseConfig({ ADMIN_PASSWORD: 'short' })).toThrow(/ADMIN_PASSWORD: must be at least 8 characters/);
  });

  it('lists every bad variable at once', () => {
    expect(() => parseConfig({ PORT: 'x', READ_STORE: 'y' })).toThrow(/PORT: .*\n\s+READ_STORE: /s);
  });
});

describe('npm start with invalid configuration', () => {
  it('exits non-zero with a message naming the variable, before touching DATA_DIR', () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'fleetledger-config-')), 'data');
    try {
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'main.ts'], {
        cwd: root,
        env: { PATH: process.env.PATH, DATA_DIR: dataDir, EVENT_STORE: 'cassandra' },
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(run.status).toBe(2);
      expect(run.stderr).toContain('invalid configuration');
      expect(run.stderr).toMatch(/EVENT_STORE: Invalid option: expected one of "sqlite"\|"esdb"/);
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      rmSync(join(dataDir, '..'), { recursive: true, force: true });
    }
  });
});
