// docker-compose.yml, checked by parsing (there is no Docker engine on our CI machines): the services and their
// profiles, that the fleetledger services' environment is exactly what config.ts accepts and gives the roles and
// stores we mean, that health checks probe the port the process listens on and a route it serves, that the
// connection strings name services of this file, volumes, dependencies and replicas.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configSchema, parseConfig } from '../../config.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (file: string) => readFileSync(join(root, file), 'utf8');
const source = read('docker-compose.yml');
// `merge: true`: Compose resolves YAML merge keys (<<), so the test sees the services as Compose does.
const compose: any = parse(source, { merge: true });
const services: Record<string, any> = compose.services;

const APPS = ['api', 'projector'] as const;
const DEFAULT_SERVICES = ['esdb', 'mongo', 'mongo-init', 'api', 'projector'];
const CLUSTER_NODES = ['esdb-node1', 'esdb-node2', 'esdb-node3'];
/** What a `${VAR:?message}` (a variable the user must set) stands for here: long enough to be an ADMIN_PASSWORD. */
const REQUIRED_PLACEHOLDER = 'required-variable-placeholder';
/** ...and for SECRET_KEY, which must be a key: 32 bytes in base64. */
const REQUIRED_KEY_PLACEHOLDER = Buffer.alloc(32, 1).toString('base64');
const requiredStandIn = (name: string) => (name === 'SECRET_KEY' ? REQUIRED_KEY_PLACEHOLDER : REQUIRED_PLACEHOLDER);

/** The keys of config.ts's schema; looks through refinements/pipes in case the object gets wrapped one day. */
function schemaKeys(schema: any): string[] {
  for (let s = schema, depth = 0; s && depth < 10; depth++) {
    const shape = s.shape ?? s.def?.shape ?? s._def?.shape;
    if (shape) return Object.keys(typeof shape === 'function' ? shape() : shape);
    s = s.def?.in ?? s.in ?? s.def?.innerType ?? s._def?.schema;
  }
  throw new Error('cannot find the object shape of configSchema');
}
const CONFIG_KEYS = schemaKeys(configSchema);

/**
 * Compose variable interpolation: $$, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR?message}.
 * `env` is the shell environment of `docker compose`; unset by default. Compose would also substitute a bare $VAR;
 * this file keeps to the braced form, so a bare one (`$all` in a script, say) is reported as the mistake it would be.
 */
function interpolate(value: string, env: Record<string, string> = {}): string {
  return value.replace(
    /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*)|(:?\?)([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*)|(.?))/g,
    (_m, dollar, name, dashOp, fallback, qOp, _message, bare, stray) => {
      if (dollar) return '$';
      if (bare) throw new Error(`bare variable "$${bare}" in ${JSON.stringify(value)} (write $$ for a literal $)`);
      if (stray !== undefined) throw new Error(`stray "$" in ${JSON.stringify(value)} (write $$ for a literal $)`);
      const v = env[name];
      const unsetOrEmpty = v === undefined || v === '';
      if (dashOp) return (dashOp === ':-' ? unsetOrEmpty : v === undefined) ? fallback : v!;
      if (qOp) return (qOp === ':?' ? unsetOrEmpty : v === undefined) ? requiredStandIn(name) : v!;
      return v ?? '';
    },
  );
}

/** A service's environment (map or list syntax) as Compose would pass it, interpolated. */
function environmentOf(service: any, env?: Record<string, string>): Record<string, string> {
  const raw = service.environment ?? {};
  const entries: [string, unknown][] = Array.isArray(raw)
    ? raw.map((line: string) => {
        const i = line.indexOf('=');
        return i < 0 ? [line, undefined] : [line.slice(0, i), line.slice(i + 1)];
      })
    : Object.entries(raw);
  return Object.fromEntries(entries.map(([k, v]) => [k, v === undefined || v === null ? '' : interpolate(String(v), env)]));
}

/** Host names (with ports) of an esdb:// connection string: `esdb://a:2113,b:2113?tls=false`. */
function esdbHosts(url: string): { host: string; port: number }[] {
  const m = /^esdb(?:\+discover)?:\/\/([^/?#]+)/.exec(url);
  if (!m) throw new Error(`not an esdb:// URL: ${url}`);
  return m[1]!.split(',').map((hp) => {
    const [host, port] = hp.split(':');
    return { host: host!, port: Number(port ?? 2113) };
  });
}

/** depends_on in either syntax, as { service: condition }. */
function dependsOn(service: any): Record<string, string> {
  const d = service.depends_on ?? {};
  if (Array.isArray(d)) return Object.fromEntries(d.map((name: string) => [name, 'service_started']));
  return Object.fromEntries(Object.entries(d).map(([name, v]: [string, any]) => [name, v?.condition ?? 'service_started']));
}

/** The one http:// URL a health check probes. */
function probedUrl(service: any): URL {
  const test = service.healthcheck?.test;
  const text = Array.isArray(test) ? test.join(' ') : String(test ?? '');
  const urls = text.match(/https?:\/\/[^\s'"`)]+/g) ?? [];
  expect(urls, `health check of ${JSON.stringify(text)}`).toHaveLength(1);
  return new URL(urls[0]!);
}

/** Every string anywhere in a parsed YAML value. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

/** The cluster connection string the header documents (`ESDB_URL=... docker compose --profile cluster up`). */
function documentedClusterUrl(): string {
  const header = source.split('\n').filter((l) => l.startsWith('#')).join('\n');
  const m = /ESDB_URL=(esdb:\/\/\S+)\s+docker compose --profile cluster up/.exec(header);
  if (!m) throw new Error('the header does not document ESDB_URL=... docker compose --profile cluster up');
  return m[1]!;
}

describe('docker-compose.yml: services and profiles', () => {
  it('is a Compose Specification file (no version key) with the expected services', () => {
    expect(compose.version).toBeUndefined();
    expect(Object.keys(services).sort()).toEqual([...DEFAULT_SERVICES, ...CLUSTER_NODES].sort());
  });

  it('puts the cluster nodes under the cluster profile and nothing else under any profile', () => {
    for (const name of CLUSTER_NODES) expect(services[name].profiles, name).toEqual(['cluster']);
    for (const name of DEFAULT_SERVICES) expect(services[name].profiles, name).toBeUndefined();
  });

  it('uses EventStoreDB 24.10 and MongoDB 7, and builds the fleetledger image once for both roles', () => {
    for (const name of ['esdb', ...CLUSTER_NODES]) expect(services[name].image, name).toBe('eventstore/eventstore:24.10');
    for (const name of ['mongo', 'mongo-init']) expect(services[name].image, name).toMatch(/^mongo:7(\.|$)/);
    for (const name of APPS) {
      expect(services[name].build?.context ?? services[name].build, name).toBe('.');
      expect(services[name].image, name).toBe(services.api.image);
    }
  });

  it('interpolates every string without error (no stray $, which Compose would reject or substitute)', () => {
    for (const s of strings(compose)) expect(() => interpolate(s), s).not.toThrow();
  });
});

describe('docker-compose.yml: the fleetledger services are configured as config.ts understands', () => {
  it('sets only variables that config.ts reads', () => {
    expect(CONFIG_KEYS).toContain('ROLE');
    for (const name of APPS) {
      const keys = Object.keys(environmentOf(services[name]));
      expect(keys.length, name).toBeGreaterThan(0);
      for (const key of keys) expect(CONFIG_KEYS, `${name}: ${key}`).toContain(key);
    }
  });

  it.each([
    ['api', 'api'],
    ['projector', 'projector'],
  ] as const)('%s parses with the defaults and runs as ROLE=%s on EventStoreDB and MongoDB', (name, role) => {
    const config = parseConfig(environmentOf(services[name]));
    expect(config).toMatchObject({
      role,
      eventStore: 'esdb',
      readStore: 'mongo',
      host: '0.0.0.0',
      port: 8119,
      esdbUrl: 'esdb://esdb:2113?tls=false',
      mongoUrl: 'mongodb://mongo:27017/?replicaSet=rs0',
      mongoDb: 'fleetledger',
      adminPassword: REQUIRED_PLACEHOLDER,
      adminToken: undefined,
      secretKey: REQUIRED_KEY_PLACEHOLDER,
    });
  });

  it('requires ADMIN_PASSWORD and SECRET_KEY from the user instead of shipping them; no static token', () => {
    for (const name of APPS) expect(String(services[name].environment.ADMIN_PASSWORD), name).toMatch(/^\$\{ADMIN_PASSWORD:\?.+\}$/);
    for (const name of APPS) expect(services[name].environment.ADMIN_TOKEN, name).toBeUndefined();
    for (const name of APPS) expect(String(services[name].environment.SECRET_KEY), name).toMatch(/^\$\{SECRET_KEY:\?.+\}$/);
  });

  it('parses with the documented cluster ESDB_URL too, and passes it through', () => {
    const url = documentedClusterUrl();
    for (const name of APPS) {
      const config = parseConfig(environmentOf(services[name], { ESDB_URL: url, ADMIN_PASSWORD: 'a-password-of-24-chars' }));
      expect(config.esdbUrl, name).toBe(url);
      expect(config.adminPassword, name).toBe('a-password-of-24-chars');
    }
  });

  it('probes GET /ready, a route api/http/app.ts serves, on the PORT each process listens on', () => {
    const app = read('api/http/app.ts');
    for (const name of APPS) {
      const url = probedUrl(services[name]);
      const config = parseConfig(environmentOf(services[name]));
      expect(url.pathname, name).toBe('/ready');
      expect(app).toContain(`app.get('${url.pathname}'`);
      expect(Number(url.port), name).toBe(config.port);
      expect(['127.0.0.1', 'localhost'], name).toContain(url.hostname);
    }
  });

  it('runs one projector and several API replicas, each published on its own host port to PORT', () => {
    expect(services.projector.deploy?.replicas).toBe(1);
    const replicas = services.api.deploy?.replicas;
    expect(replicas).toBeGreaterThanOrEqual(2);
    const port = parseConfig(environmentOf(services.api)).port;
    const published = (services.api.ports as unknown[]).map(String);
    expect(published).toHaveLength(1);
    const m = /^(?:[\d.]+:)?(\d+)(?:-(\d+))?:(\d+)$/.exec(published[0]!);
    expect(m, published[0]).not.toBeNull();
    const [from, to, target] = [Number(m![1]), Number(m![2] ?? m![1]), Number(m![3])];
    expect(target).toBe(port);
    expect(to - from + 1).toBeGreaterThanOrEqual(replicas);
    expect(services.projector.ports).toBeUndefined();
  });
});

describe('docker-compose.yml: connection strings name services of this file', () => {
  it('ESDB_URL defaults to the single node, which every profile has, on the port it listens on', () => {
    const hosts = esdbHosts(parseConfig(environmentOf(services.api)).esdbUrl!);
    expect(hosts.map((h) => h.host)).toEqual(['esdb']);
    for (const { host, port } of hosts) {
      expect(services[host].profiles).toBeUndefined();
      expect(Number(environmentOf(services[host]).EVENTSTORE_NODE_PORT ?? 2113)).toBe(port);
      expect(environmentOf(services[host]).EVENTSTORE_CLUSTER_SIZE).toBe('1');
    }
  });

  it('the documented cluster ESDB_URL names the three cluster nodes, on the port each listens on', () => {
    const hosts = esdbHosts(documentedClusterUrl());
    expect(hosts.map((h) => h.host).sort()).toEqual(CLUSTER_NODES);
    for (const { host, port } of hosts) {
      expect(services[host].profiles).toEqual(['cluster']);
      expect(Number(environmentOf(services[host]).EVENTSTORE_NODE_PORT ?? 2113)).toBe(port);
    }
    expect(documentedClusterUrl()).toMatch(/[?&]tls=false(&|$)/);
  });

  it('the cluster nodes form one insecure cluster of three by gossip seeds naming the other nodes', () => {
    for (const name of CLUSTER_NODES) {
      const env = environmentOf(services[name]);
      expect(env, name).toMatchObject({
        EVENTSTORE_CLUSTER_SIZE: String(CLUSTER_NODES.length),
        EVENTSTORE_DISCOVER_VIA_DNS: 'false',
        EVENTSTORE_INSECURE: 'true',
      });
      const seeds = env.EVENTSTORE_GOSSIP_SEED!.split(',').map((s) => s.split(':')[0]);
      expect(seeds.sort(), name).toEqual(CLUSTER_NODES.filter((n) => n !== name));
      expect(env.EVENTSTORE_ADVERTISE_HOST_TO_CLIENT_AS, name).toBe(name);
    }
    expect(environmentOf(services.esdb).EVENTSTORE_INSECURE).toBe('true');
  });

  it('MONGO_URL points at the mongo service and the replica set mongo runs and mongo-init initiates', () => {
    for (const name of APPS) {
      const url = new URL(parseConfig(environmentOf(services[name])).mongoUrl!);
      expect(url.hostname, name).toBe('mongo');
      expect(services[url.hostname], name).toBeDefined();
      const replicaSet = url.searchParams.get('replicaSet');
      expect(replicaSet, name).toBe('rs0');
      const command: string[] = services.mongo.command;
      expect(command[command.indexOf('--replSet') + 1]).toBe(replicaSet);
      expect(command).toContain('--bind_ip_all');
    }
  });

  it('mongo-init initiates the replica set only when rs.status() says it is not, with the member apps can resolve', () => {
    const command: string[] = services['mongo-init'].command;
    expect(command[0]).toBe('mongosh');
    expect(command[command.indexOf('--host') + 1]).toBe('mongo:27017');
    const script = command[command.indexOf('--eval') + 1]!;
    expect(script.indexOf('rs.status()')).toBeGreaterThan(-1);
    expect(script.indexOf('rs.status()')).toBeLessThan(script.indexOf('rs.initiate('));
    expect(script).toContain('NotYetInitialized');
    expect(script).toMatch(/_id: 'rs0'/);
    expect(script).toMatch(/host: 'mongo:27017'/);
    expect(services['mongo-init'].restart).toBe('no');
  });
});

describe('docker-compose.yml: volumes, health checks, dependencies', () => {
  it('declares every named volume a service mounts, and each store keeps its data in one', () => {
    const declared = Object.keys(compose.volumes ?? {});
    const used = new Set<string>();
    for (const [name, service] of Object.entries(services)) {
      for (const v of service.volumes ?? []) {
        const source = typeof v === 'string' ? v.split(':')[0]! : v.type === 'volume' ? v.source : undefined;
        if (!source || source.startsWith('.') || source.startsWith('/') || source.startsWith('~')) continue;
        expect(declared, `${name} mounts ${source}`).toContain(source);
        used.add(source);
      }
    }
    const dataVolume = (name: string, path: string) =>
      (services[name].volumes as string[]).some((v) => v.endsWith(`:${path}`) && declared.includes(v.split(':')[0]!));
    for (const name of ['esdb', ...CLUSTER_NODES]) expect(dataVolume(name, '/var/lib/eventstore'), name).toBe(true);
    expect(dataVolume('mongo', '/data/db')).toBe(true);
    expect([...used].sort()).toEqual(declared.sort());
  });

  it('gives every EventStoreDB node a liveness check on its node port and mongo a mongosh ping', () => {
    for (const name of ['esdb', ...CLUSTER_NODES]) {
      const url = probedUrl(services[name]);
      expect(url.pathname, name).toBe('/health/live');
      expect(Number(url.port), name).toBe(Number(environmentOf(services[name]).EVENTSTORE_NODE_PORT ?? 2113));
    }
    expect(services.mongo.healthcheck.test).toContain('mongosh');
    expect(services.mongo.healthcheck.test.join(' ')).toMatch(/ping/);
  });

  it('starts the apps once EventStoreDB is healthy and the replica set is initiated', () => {
    for (const name of APPS) {
      expect(dependsOn(services[name]), name).toEqual({ esdb: 'service_healthy', 'mongo-init': 'service_completed_successfully' });
    }
    expect(dependsOn(services['mongo-init'])).toEqual({ mongo: 'service_healthy' });
  });

  it('never makes a default service depend on a profiled one, and waits for health only where there is a check', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dep, condition] of Object.entries(dependsOn(service))) {
        expect(services[dep], `${name} depends on ${dep}`).toBeDefined();
        if (!service.profiles) expect(services[dep].profiles, `${name} depends on ${dep}`).toBeUndefined();
        if (condition === 'service_healthy') expect(services[dep].healthcheck, `${dep} has a health check`).toBeDefined();
      }
    }
  });
});

describe('Dockerfile and .dockerignore', () => {
  const dockerfile = read('Dockerfile');

  it('builds on node:20-bookworm-slim with the tools for better-sqlite3, runs as a non-root user, exposes PORT', () => {
    const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    expect(froms.length).toBeGreaterThan(0);
    for (const from of froms) expect(from).toBe('node:20-bookworm-slim');
    for (const tool of ['python3', 'make', 'g++']) expect(dockerfile).toMatch(new RegExp(`apt-get install[^\\n]*\\b${tool.replace(/\+/g, '\\+')}`));
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    const users = [...dockerfile.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    expect(users.at(-1)).toBeDefined();
    expect(['root', '0']).not.toContain(users.at(-1));
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${parseConfig(environmentOf(services.api)).port}$`, 'm'));
    expect(dockerfile).toMatch(/^CMD \[.*main\.ts"\]$/m);
  });

  it('keeps node_modules, data, bench results and .git out of the build context', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim());
    for (const entry of ['node_modules', 'data', 'bench/results', '.git']) expect(ignored).toContain(entry);
  });
});
