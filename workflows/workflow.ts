// What every workflow is to the site that runs it, and what it is given. A workflow decides only *when* to act;
// the deciders decide *what* may happen. Workflows run where projections run (ROLE=all or ROLE=projector).
import type { Logger } from 'pino';
import type { EventStore } from '../adapters/eventstore/port.js';
import type { ReadStore } from '../adapters/readstore/port.js';
import type { SecretBox } from '../adapters/secrets/secretBox.js';
import type { SubcloudAgentClient } from '../adapters/subcloudAgent/client.js';
import type { SubcloudCommands } from '../commands/distcloud/subclouds.js';
import type { SwUpdateStrategyCommands } from '../commands/distcloud/swUpdateStrategies.js';
import type { Clock } from '../domain/core/clock.js';
import type { UpcasterRegistry } from '../domain/core/upcasting.js';
import type { GeoWorkflowDeps } from './peerMonitor.js';

export interface Workflow {
  readonly name: string;
  /** Starts the workflow's loop or subscription; resolves once it is running (not when it is done). */
  start(): Promise<void>;
  /** Stops taking new work and waits for the step in hand to end. */
  stop(): Promise<void>;
}

export interface WorkflowDeps {
  eventStore: EventStore;
  readStore: ReadStore;
  upcasters: UpcasterRegistry;
  subclouds: SubcloudCommands;
  agent: SubcloudAgentClient;
  /** Opens the secrets an event keeps sealed (passwords and deploy configs the deploy phases pass on). */
  secrets: Pick<SecretBox, 'open'>;
  clock: Clock;
  logger: Logger;
  settings: WorkflowSettings;
  /** Orchestration: the strategy commands and where the system controller's own agent answers. */
  orchestration?: OrchestrationDeps;
  /** Geo-redundancy: the commands and peer sessions the peer workflows use (absent: those workflows do nothing). */
  geo?: GeoWorkflowDeps;
}

export interface OrchestrationDeps {
  strategies: SwUpdateStrategyCommands;
  /** The system controller's agent (prestage-prepare). */
  systemControllerAddress: string;
  /** The system controller's release: what a prestage prestages. */
  softwareVersion: string;
}

export interface WorkflowSettings {
  /** Seconds between two availability audits of the fleet (dcmanager's subcloud_audit_interval). */
  subcloudAuditIntervalSeconds: number;
  /** Subclouds audited at once. */
  subcloudAuditConcurrency: number;
  /** WORKFLOW_TIME_SCALE: multiplies the waits the geo-redundancy workflows take from dcmanager (1 in production). */
  timeScale?: number;
}

export type WorkflowFactory = (deps: WorkflowDeps) => Workflow;
