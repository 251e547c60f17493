// Composition root of one site: stores from config, command handling, projections, workflows and the API.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import type { Server } from 'node:http';
import pino, { type Logger } from 'pino';
import type { Config } from './config.js';
import type { EventStore } from './adapters/eventstore/port.js';
import { sqliteEventStore } from './adapters/eventstore/sqlite.js';
import { esdbEventStore } from './adapters/eventstore/esdb/store.js';
import type { ReadStore } from './adapters/readstore/port.js';
import { memoryReadStore } from './adapters/readstore/memory.js';
import { mongoReadStore } from './adapters/readstore/mongo.js';
import { subcloudAgentClient, type SubcloudAgentClient } from './adapters/subcloudAgent/client.js';
import { loadSecretKeys } from './adapters/secrets/keys.js';
import { secretBox, type SecretBox } from './adapters/secrets/secretBox.js';
import { tokenSigner } from './adapters/secrets/tokenSigner.js';
import { createApp } from './api/http/app.js';
import { keystoneRouter } from './api/identity/keystone.js';
import { loginLimiter } from './api/identity/loginLimiter.js';
import { writeResponder } from './api/http/writes.js';
import { subcloudGroupsRouter } from './api/distcloud/subcloudGroups.js';
import { subcloudsRouter } from './api/distcloud/subclouds.js';
import { alarmsRouter } from './api/distcloud/alarms.js';
import { systemRouter } from './api/distcloud/system.js';
import { historyRouter } from './api/history/router.js';
import { systemContext } from './commands/core/context.js';
import { commandHandler } from './commands/core/handler.js';
import { lruStateCache } from './commands/core/stateCache.js';
import { uniqueness } from './commands/core/uniqueness.js';
import { subcloudGroupCommands } from './commands/distcloud/subcloudGroups.js';
import { subcloudCommands } from './commands/distcloud/subclouds.js';
import { latestPosition } from './commands/core/renaming.js';
import { COLLECTIONS } from './domain/distcloud/collections.js';
import type { SubcloudDoc } from './projections/distcloud/subclouds.js';
import { identifyLocalSystem } from './commands/distcloud/localSystem.js';
import { systemPeerCommands } from './commands/distcloud/systemPeers.js';
import { subcloudPeerGroupCommands } from './commands/distcloud/subcloudPeerGroups.js';
import { peerGroupAssociationCommands } from './commands/distcloud/peerGroupAssociations.js';
import type { LocalSystem } from './domain/distcloud/localSystem.js';
import { systemPeersRouter } from './api/distcloud/systemPeers.js';
import { subcloudPeerGroupsRouter } from './api/distcloud/subcloudPeerGroups.js';
import { peerGroupAssociationsRouter } from './api/distcloud/peerGroupAssociations.js';
import { systemPeersProjection } from './projections/distcloud/systemPeers.js';
import { subcloudPeerGroupsProjection } from './projections/distcloud/subcloudPeerGroups.js';
import { peerGroupAssociationsProjection } from './projections/distcloud/peerGroupAssociations.js';
import { identityCommands } from './commands/identity/identity.js';
import { UPCASTERS } from './domain/aggregates.js';
import { systemClock, type Clock } from './domain/core/clock.js';
import { upcasterRegistry } from './domain/core/upcasting.js';
import { asAny } from './projections/core/projection.js';
import { projectionRunner } from './projections/core/runner.js';
import { checkpointWatcher } from './projections/core/checkpointWatcher.js';
import { subcloudGroupsProjection } from './projections/distcloud/subcloudGroups.js';
import { subcloudNetworksProjection } from './projections/distcloud/subcloudNetworks.js';
import { subcloudsProjection } from './projections/distcloud/subclouds.js';
import { auditLogProjection } from './projections/history/auditLog.js';
import { revokedTokensProjection } from './projections/identity/revokedTokens.js';
import { usersProjection } from './projections/identity/users.js';
import { subcloudDeploy } from './workflows/subcloudDeploy.js';
import { availabilityAudit } from './workflows/availabilityAudit.js';
import { peerMonitor } from './workflows/peerMonitor.js';
import { peerGroupSync } from './workflows/peerGroupSync.js';
import { peerGroupMigration } from './workflows/peerGroupMigration.js';
import { podManagerCommands } from './commands/composable/podManagers.js';
import { podManagersProjection } from './projections/composable/podManagers.js';
import { podManagersRouter } from './api/composable/podManagers.js';
import { probePodManager } from './adapters/podManager/redfishProbe.js';
import { createPeerGroupAuditor } from './workflows/peerGroupAudit.js';
import { associationStatusPush } from './workflows/associationStatusPush.js';
import { peerPropagation } from './commands/distcloud/peerPropagation.js';
import { faultAlarmCommands } from './commands/distcloud/faultAlarms.js';
import { peerDirectory } from './adapters/peer/peerDirectory.js';
import { faultAlarmsProjection } from './projections/distcloud/faultAlarms.js';
import type { Workflow, WorkflowDeps, WorkflowFactory } from './workflows/workflow.js';
import { swUpdateStrategyCommands } from './commands/distcloud/swUpdateStrategies.js';
import { subcloudPrestageCommands } from './commands/distcloud/subcloudPrestage.js';
import { swUpdateStrategiesProjection } from './projections/distcloud/swUpdateStrategies.js';
import { strategyStepsProjection } from './projections/distcloud/strategySteps.js';
import { swUpdateStrategyRouter } from './api/distcloud/swUpdateStrategy.js';
import { prestageOrchestrator } from './workflows/prestageOrchestrator.js';
import { subcloudPrestage } from './workflows/subcloudPrestage.js';

export const PROJECTIONS = [
  asAny(subcloudGroupsProjection),
  asAny(subcloudsProjection),
  asAny(subcloudNetworksProjection),
  asAny(systemPeersProjection),
  asAny(subcloudPeerGroupsProjection),
  asAny(peerGroupAssociationsProjection),
  asAny(faultAlarmsProjection),
  asAny(usersProjection),
  asAny(revokedTokensProjection),
  asAny(auditLogProjection),
  asAny(podManagersProjection),
  asAny(swUpdateStrategiesProjection),
  asAny(strategyStepsProjection),
];

/** The site's workflows, in start order (each file under workflows/ adds itself here). */
export const WORKFLOWS: WorkflowFactory[] = [
  subcloudDeploy,
  availabilityAudit,
  peerMonitor,
  peerGroupSync,
  associationStatusPush,
  peerGroupMigration,
  prestageOrchestrator,
  subcloudPrestage,
];

export interface SiteOptions {
  config: Config;
  /** ADMIN_TOKEN: a static token that acts as the admin user, only when the operator set one (development). */
  adminToken?: string | undefined;
  clock?: Clock;
  logger?: Logger;
  eventStore?: EventStore;
  /** Required unless READ_STORE=memory (open it with openReadStore: MongoDB connects asynchronously). */
  readStore?: ReadStore;
  /** The subcloud agent client (tests inject one whose waits are driven by their clock). */
  agent?: SubcloudAgentClient;
  /** Which workflows to run (default WORKFLOWS); tests that drive a workflow by hand pass []. */
  workflows?: WorkflowFactory[];
  /** Seals and opens secrets; default: the keys SECRET_KEY / SECRET_KEY_FILE / DATA_DIR give (adapters/secrets/keys.ts). */
  secrets?: SecretBox;
  /** The keys secrets and tokens derive from (default: loaded as above). */
  secretKeys?: Buffer[];
}

/** The embedded event store's database file (EVENT_STORE=sqlite). */
export const sqliteEventStoreFile = (config: Config): string => join(config.dataDir, 'events.sqlite');

/** The configured event store. EventStoreDB's client connects on first use, so this never waits. */
export function openEventStore(config: Config, clock: Clock, logger?: Logger): EventStore {
  if (config.eventStore === 'sqlite') return sqliteEventStore({ file: sqliteEventStoreFile(config), clock });
  return esdbEventStore({
    url: config.esdbUrl!,
    resubscribe: {
      onDrop: (err, attempt) => logger?.warn({ err, attempt }, 'EventStoreDB subscription dropped; resubscribing'),
    },
  });
}

/** The configured read store; MongoDB is connected before this resolves, so a wrong URL fails at start. */
export async function openReadStore(config: Config): Promise<ReadStore> {
  if (config.readStore === 'memory') return memoryReadStore();
  const url = config.mongoUrl!;
  return mongoReadStore({
    url,
    database: config.mongoDb,
    appName: `fleetledger-${config.role}`,
    // An API read waits this long for an unreachable server before its 503 (the driver's default is 30 s);
    // a serverSelectionTimeoutMS in MONGO_URL wins.
    ...(/[?&]serverSelectionTimeoutMS=/i.test(url) ? {} : { serverSelectionTimeoutMS: 5_000 }),
  });
}

export function createSite(o: SiteOptions) {
  const clock = o.clock ?? systemClock;
  const logger = o.logger ?? pino({ level: o.config.logLevel });
  const eventStore = o.eventStore ?? openEventStore(o.config, clock, logger);
  if (!o.readStore && o.config.readStore !== 'memory') throw new Error('createSite: pass the read store from openReadStore');
  const readStore = o.readStore ?? memoryReadStore();
  // ROLE: `api` leaves the projections to the one `projector` process; `projector` serves no API but health.
  const servesApi = o.config.role !== 'projector';
  const runsProjections = o.config.role !== 'api';
  const upcasters = upcasterRegistry(UPCASTERS);
  const handle = commandHandler({ store: eventStore, upcasters, cache: lruStateCache() });
  const unique = uniqueness(handle);
  const groups = subcloudGroupCommands({ handle, uniqueness: unique, eventStore, readStore, upcasters });
  const agent = o.agent ?? subcloudAgentClient({ port: o.config.subcloudAgentPort });
  const keys = o.secretKeys ?? loadSecretKeys(o.config);
  const secrets = o.secrets ?? secretBox(keys);
  const identity = identityCommands({
    handle,
    uniqueness: unique,
    eventStore,
    upcasters,
    readStore,
    signer: tokenSigner(keys),
    clock,
    tokenTtlMs: o.config.tokenTtlSeconds * 1000,
  });
  // This site's UUID and name: recorded at the first start, read at every start (before anything is served).
  let localSystem: LocalSystem | undefined;
  const getLocalSystem = (): LocalSystem => {
    if (!localSystem) throw new Error('the site has not identified itself yet (start() does)');
    return localSystem;
  };
  const peers = systemPeerCommands({ handle, uniqueness: unique, eventStore, readStore, upcasters, secrets });
  const peerGroups = subcloudPeerGroupCommands({
    handle,
    uniqueness: unique,
    eventStore,
    readStore,
    upcasters,
    localSystem: getLocalSystem,
    secrets,
    async releaseMembers(groupId, ctx) {
      let position: bigint | undefined;
      for (const m of await readStore.find<SubcloudDoc>(COLLECTIONS.subclouds, { peerGroupId: groupId })) {
        position = latestPosition(position, (await subclouds.leavePeerGroup(m.id, ctx)).position);
      }
      return position;
    },
  });
  const associations = peerGroupAssociationCommands({ handle, uniqueness: unique, eventStore, readStore, upcasters, localSystem: getLocalSystem });
  const subclouds = subcloudCommands({
    handle,
    uniqueness: unique,
    eventStore,
    readStore,
    upcasters,
    softwareVersion: o.config.softwareVersion,
    systemControllerManagement: o.config.systemControllerManagement,
    agent,
    logger,
    secrets,
    geo: { localSystem: getLocalSystem, associations },
  });
  const strategies = swUpdateStrategyCommands({ handle, uniqueness: unique, eventStore, readStore, upcasters, secrets, softwareVersion: o.config.softwareVersion });
  const prestage = subcloudPrestageCommands({
    subclouds,
    agent,
    secrets,
    prestageInProgress: strategies.prestageInProgress,
    softwareVersion: o.config.softwareVersion,
  });
  const alarms = faultAlarmCommands(handle);
  const podManagers = podManagerCommands({ handle, uniqueness: unique, eventStore, readStore, upcasters, secrets, probe: probePodManager });
  const directory = peerDirectory({ secrets, clock });
  const propagation = peerPropagation({ readStore, directory, associations, localSystem: getLocalSystem, logger });
  const runner = projectionRunner({
    eventStore,
    readStore,
    projections: PROJECTIONS,
    upcasters,
    onError: (err) => logger.error({ err }, 'projection subscription failed; resubscribing'),
  });
  // What each workflow is given; exposed so a test can drive one (say, an audit cycle) with the site's own parts.
  const workflowDeps: WorkflowDeps = {
    eventStore,
    readStore,
    upcasters,
    subclouds,
    agent,
    secrets,
    clock,
    logger,
    geo: { peers, associations, alarms, directory, localSystem: getLocalSystem, peerGroups },
    orchestration: { strategies, systemControllerAddress: o.config.systemControllerAgentAddress, softwareVersion: o.config.softwareVersion },
    settings: {
      subcloudAuditIntervalSeconds: o.config.subcloudAuditIntervalSeconds,
      subcloudAuditConcurrency: o.config.subcloudAuditConcurrency,
      timeScale: o.config.workflowTimeScale,
    },
  };
  // One auditor for the peer monitor and PATCH /subcloud-peer-groups/{ref}/audit, so one group's audits never overlap.
  const auditor = createPeerGroupAuditor(workflowDeps);
  workflowDeps.geo!.auditor = auditor;
  const workflows: Workflow[] = runsProjections ? (o.workflows ?? WORKFLOWS).map((factory) => factory(workflowDeps)) : [];
  const watcher = runsProjections ? undefined : checkpointWatcher({ readStore, projections: PROJECTIONS });
  const progress = watcher ?? runner;
  let started = false;
  const writes = writeResponder(progress, o.config.readYourWritesTimeoutMs);

  const app = createApp({
    logger,
    authenticator: { adminToken: o.adminToken, validate: (token) => identity.validate(token) },
    jsonLimitBytes: o.config.maxBodyBytes,
    async readiness() {
      const [head, readStoreUp] = await Promise.all([
        eventStore.headPosition().catch(() => undefined),
        readStore.getCheckpoint(PROJECTIONS[0]!.name).then(
          () => true,
          () => false,
        ),
      ]);
      const ready = started && head !== undefined && readStoreUp;
      return {
        ready,
        detail: {
          role: o.config.role,
          eventStore: head === undefined ? 'unavailable' : 'ok',
          readStore: readStoreUp ? 'ok' : 'unavailable',
          projectedPosition: progress.position().toString(),
        },
      };
    },
    routes: servesApi
      ? {
          '/v1.0/subcloud-groups': subcloudGroupsRouter({ commands: groups, readStore, clock, writes }),
          '/v1.0/subclouds': subcloudsRouter({ commands: subclouds, prestage, readStore, clock, writes }),
          '/v1.0/sw-update-strategy': swUpdateStrategyRouter({ commands: strategies, readStore, clock, writes }),
          '/v1.0/alarms': alarmsRouter({ readStore }),
          '/v1.0/system-peers': systemPeersRouter({ commands: peers, readStore, clock, writes }),
          '/v1.0/subcloud-peer-groups': subcloudPeerGroupsRouter({ commands: peerGroups, readStore, clock, writes, propagation, auditor }),
          '/v1.0/peer-group-associations': peerGroupAssociationsRouter({ commands: associations, readStore, clock, writes, propagation }),
          '/v1/pod_managers': podManagersRouter({ commands: podManagers, readStore, clock, writes }),
          '/v1': systemRouter({ localSystem: getLocalSystem, softwareVersion: o.config.softwareVersion }),
          '/history': historyRouter({ eventStore, readStore, upcasters }),
          '/v3': keystoneRouter({ identity, readStore, clock, writes, limiter: loginLimiter(clock), publicUrl: o.config.publicUrl }),
        }
      : {},
  });

  let server: Server | undefined;

  return {
    app,
    clock,
    logger,
    eventStore,
    readStore,
    runner,
    commands: { groups, subclouds, identity, peers, peerGroups, associations, alarms, podManagers, strategies, prestage },
    /** This site's UUID and name (after start). */
    localSystem: getLocalSystem,
    agent,
    workflows,
    workflowDeps,
    /** Seeds built-in rows, catches the read models up (or, for ROLE=api, reads how far they are), and (if asked) listens. */
    async start(listen?: { port: number; host: string }): Promise<{ port: number; generatedAdminPassword?: string } | undefined> {
      let generatedAdminPassword: string | undefined;
      localSystem = await identifyLocalSystem(handle, o.config.systemName, systemContext(clock.now(), 'fleetledger', 'identify-local-system'));
      if (servesApi) {
        await groups.seedDefault(systemContext(clock.now(), 'fleetledger', 'seed-default-subcloud-group'));
      }
      if (watcher) await watcher.start();
      else await runner.start();
      if (servesApi) {
        // The first start's admin user (once the users read model has caught up): ADMIN_PASSWORD, or a generated
        // password the caller prints once.
        const password = o.config.adminPassword ?? randomBytes(18).toString('base64url');
        const created = await identity.bootstrapAdmin(password, systemContext(clock.now(), 'fleetledger', 'bootstrap-admin'));
        if (created && !o.config.adminPassword) generatedAdminPassword = password;
      }
      // After the read models caught up: a workflow resuming after a restart reads them.
      for (const w of workflows) await w.start();
      started = true;
      if (!listen) return undefined;
      // HTTPS when a certificate and key are configured, else plain HTTP.
      const tls = o.config.tls;
      const s: Server = tls
        ? createHttpsServer({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) }, app).listen(listen.port, listen.host)
        : app.listen(listen.port, listen.host);
      server = s;
      await new Promise<void>((resolve, reject) => {
        s.once('listening', resolve);
        s.once('error', reject);
      });
      const address = s.address();
      return { port: typeof address === 'object' && address ? address.port : listen.port, ...(generatedAdminPassword ? { generatedAdminPassword } : {}) };
    },
    async stop() {
      if (server) {
        const s = server;
        await new Promise<void>((resolve) => s.close(() => resolve()));
        s.closeAllConnections?.();
      }
      for (const w of [...workflows].reverse()) await w.stop();
      await runner.stop();
      await agent.close();
      await directory.close();
      await eventStore.close();
      await readStore.close();
    },
  };
}

export type Site = ReturnType<typeof createSite>;
