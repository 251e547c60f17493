// The subcloud availability audit (dcmanager's subcloud audit, spec §2 and §7): every subcloud_audit_interval
// (SUBCLOUD_AUDIT_INTERVAL, 30 s by default) it asks each auditable subcloud's agent for its health and, for managed
// online subclouds, its endpoint sync statuses and alarm summary, and records what changed through the subcloud
// decider (RecordAvailability, RecordEndpointSyncStatus, RecordAlarmSummary).
//
// Which subclouds: those with a bootstrap address, not in a secondary state (a secondary subcloud is audited by
// the peer site that owns it), and whose deploy status is `complete` or that are already `online` (so one that went
// online and then entered prestage, rehome-pending, a reconfiguration… still goes offline if it stops answering).
// A subcloud still being deployed (`not-deployed`, `installing`, `bootstrap-failed`…) is not audited: nothing is
// expected to answer yet, and an offline subcloud that stays offline records nothing anyway. The deploy workflow
// owns those states.
//
// What counts as a failed audit (docs/subcloud-agent.md): no answer to GET /v1/health — connection refused or reset,
// or no answer within `healthTimeoutMs` (one attempt, no retries, so one dead subcloud holds one worker for at most
// that long) — or a 502/503/504. Any other answer, `degraded` included, means the subcloud is reachable.
// Offline after AVAIL_FAIL_COUNT_TO_ALARM (2) failures in a row; online at the first success (the decider's rule).
//
// Endpoint statuses and the alarm summary are audited only for managed subclouds that are online, as dcmanager's
// audit worker does (an unmanaged subcloud shows `unknown` sync and the `disabled` alarm summary of its creation).
// Endpoint types the subcloud does not already track are ignored (R24.03's list; the agent may report more).
//
// Zero events when nothing changed: the consecutive-failure count lives in memory (no event per failed audit), and
// each command is first decided against the read model's document (the aggregate's state): only when the decider
// would emit something is the command run on the subcloud's stream, where the decider decides again on the stream's
// own state (a read model that lags costs at most a command that appends nothing). An idle cycle appends nothing.
//
// After a restart the counts start from zero: an online subcloud that was failing needs two fresh failures (up to
// one more interval) before it goes offline. dcmanager keeps `audit_fail_count` in its subclouds table instead; we
// do not, because an event per failed audit of a dead fleet would grow the store every 30 s for no reader.
//
// Scheduling: start() arms a timer and returns; each cycle runs to its end, then the next one is armed
// `subcloudAuditIntervalSeconds` later (a slow cycle never overlaps the next). Subclouds of one cycle are audited by
// `subcloudAuditConcurrency` workers. runCycle() runs one cycle now (tests, benchmarks); stop() disarms the timer,
// lets the workers finish the subclouds in hand, and waits for the cycle.
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { AgentError, AgentUnreachableError } from '../adapters/subcloudAgent/errors.js';
import type { AlarmSummary as AgentAlarmSummary, EndpointStatus } from '../adapters/subcloudAgent/contract.js';
import { systemContext } from '../commands/core/context.js';
import { COLLECTIONS } from '../domain/distcloud/collections.js';
import {
  AVAIL_FAIL_COUNT_TO_ALARM,
  DEPLOY_STATUS,
  cloudStatusOf,
  decide,
  evolve,
  isSecondaryState,
  type AlarmSummary,
  type SubcloudCommand,
  type SubcloudState,
  type SyncStatus,
} from '../domain/distcloud/subcloud.js';
import type { SubcloudDoc } from '../projections/distcloud/subclouds.js';
import type { Workflow, WorkflowDeps, WorkflowFactory } from './workflow.js';

export const AVAILABILITY_AUDIT = 'availability-audit';
/** dcmanager's AVAIL_FAIL_COUNT_MAX: the count stops growing here. */
export const AVAIL_FAIL_COUNT_MAX = 9999;

export interface AvailabilityAuditOptions {
  /** How long GET /v1/health may take before the audit counts a failure (default 2 s; agents answer within 1 s). */
  healthTimeoutMs?: number;
  /** How long GET /v1/endpoints and GET /v1/alarms may take (default 5 s). */
  callTimeoutMs?: number;
}

export interface CycleReport {
  /** Subclouds audited this cycle. */
  audited: number;
  reachable: number;
  unreachable: number;
  /** Subclouds for which at least one event was appended. */
  changed: number;
  durationMs: number;
}

export interface AvailabilityAudit extends Workflow {
  /** One cycle now (after the one running, if any). */
  runCycle(): Promise<CycleReport>;
}

/** Whether the audit looks at this subcloud at all (see the header). */
export function isAuditable(s: Pick<SubcloudDoc, 'bootstrapAddress' | 'deployStatus' | 'availabilityStatus'>): boolean {
  if (!s.bootstrapAddress || isSecondaryState(s.deployStatus)) return false;
  return s.deployStatus === DEPLOY_STATUS.done || s.availabilityStatus === 'online';
}

/** The counts as the agent reports them; cloud_status derived here from them, as dcmanager's audit does. */
function alarmSummaryOf(a: AgentAlarmSummary): AlarmSummary {
  const counts = { criticalAlarms: a.critical_alarms, majorAlarms: a.major_alarms, minorAlarms: a.minor_alarms };
  return { ...counts, warnings: a.warnings, cloudStatus: cloudStatusOf(counts) };
}

type Probe = { reachable: true } | { reachable: false; reason: string } | { reachable: undefined; error: unknown };

export function createAvailabilityAudit(deps: WorkflowDeps, options: AvailabilityAuditOptions = {}): AvailabilityAudit {
  const { readStore, agent, clock, subclouds } = deps;
  const logger: Logger = deps.logger.child({ workflow: AVAILABILITY_AUDIT });
  const healthTimeoutMs = options.healthTimeoutMs ?? 2_000;
  const callTimeoutMs = options.callTimeoutMs ?? 5_000;
  const intervalMs = Math.max(1, deps.settings.subcloudAuditIntervalSeconds) * 1_000;
  const concurrency = Math.max(1, Math.floor(deps.settings.subcloudAuditConcurrency));

  /** Consecutive failed audits per subcloud id; absent means 0. In memory only (see the header). */
  const failures = new Map<number, number>();
  let timer: NodeJS.Timeout | undefined;
  let stopping = false;
  let last: Promise<unknown> = Promise.resolve();

  async function probe(address: string): Promise<Probe> {
    try {
      await agent.health(address, { retries: 0, signal: AbortSignal.timeout(healthTimeoutMs) });
      return { reachable: true };
    } catch (err) {
      if (err instanceof AgentUnreachableError) return { reachable: false, reason: err.reason };
      if (err instanceof AgentError) {
        return err.retryable ? { reachable: false, reason: `${err.status} ${err.code}` } : { reachable: true };
      }
      const name = (err as { name?: unknown } | null)?.name;
      if (name === 'TimeoutError' || name === 'AbortError') return { reachable: false, reason: 'timeout' };
      return { reachable: undefined, error: err };
    }
  }

  /** Decides the command against `state` first; runs it on the stream only if the decider would emit something. */
  async function apply(doc: SubcloudDoc, state: SubcloudState, command: SubcloudCommand): Promise<{ state: SubcloudState; changed: boolean }> {
    const expected = decide(command, state);
    if (expected.length === 0) return { state, changed: false };
    const next = expected.reduce(evolve, state);
    const result = await subclouds.record(doc.id, command, systemContext(clock.now(), AVAILABILITY_AUDIT));
    return { state: next, changed: result.events.length > 0 && !result.repeated };
  }

  async function auditOne(doc: SubcloudDoc): Promise<{ reachable: boolean | undefined; changed: boolean }> {
    const address = doc.bootstrapAddress!;
    const p = await probe(address);
    if (p.reachable === undefined) {
      logger.warn({ subcloud: doc.name, address, err: p.error }, 'availability audit: health check failed unexpectedly; not counted');
      return { reachable: undefined, changed: false };
    }
    const count = p.reachable ? 0 : Math.min((failures.get(doc.id) ?? 0) + 1, AVAIL_FAIL_COUNT_MAX);
    if (count === 0) failures.delete(doc.id);
    else failures.set(doc.id, count);
    if (!p.reachable) {
      // Every failure up to the one that takes the subcloud offline is worth a warning; after that, the offline
      // subcloud would fill the log every interval.
      const log = count <= AVAIL_FAIL_COUNT_TO_ALARM ? logger.warn.bind(logger) : logger.debug.bind(logger);
      log({ subcloud: doc.name, address, reason: p.reason, consecutiveFailures: count }, 'availability audit: subcloud unreachable');
    }

    const at = clock.now().toISOString();
    let state: SubcloudState = doc;
    let changed = false;
    const step = async (command: SubcloudCommand) => {
      const r = await apply(doc, state, command);
      state = r.state;
      changed ||= r.changed;
    };
    await step({ type: 'RecordAvailability', reachable: p.reachable, consecutiveFailures: count, at });

    if (p.reachable && state.status === 'active' && state.managementState === 'managed' && state.availabilityStatus === 'online') {
      const opts = () => ({ retries: 0, signal: AbortSignal.timeout(callTimeoutMs) });
      const [endpoints, alarms] = await Promise.allSettled([agent.endpoints(address, opts()), agent.alarms(address, opts())]);
      if (endpoints.status === 'fulfilled') {
        const tracked = state.endpointSyncStatus;
        const reported = Object.fromEntries(
          endpoints.value.filter((e: EndpointStatus) => e.endpoint_type in tracked).map((e) => [e.endpoint_type, e.sync_status as SyncStatus]),
        );
        await step({ type: 'RecordEndpointSyncStatus', endpoints: reported, at });
      } else {
        logger.warn({ subcloud: doc.name, address, err: endpoints.reason }, 'availability audit: endpoint sync status not read');
      }
      if (alarms.status === 'fulfilled') {
        await step({ type: 'RecordAlarmSummary', alarmSummary: alarmSummaryOf(alarms.value), at });
      } else {
        logger.warn({ subcloud: doc.name, address, err: alarms.reason }, 'availability audit: alarm summary not read');
      }
    }
    return { reachable: p.reachable, changed };
  }

  async function cycle(): Promise<CycleReport> {
    const started = performance.now();
    const docs = await readStore.find<SubcloudDoc>(COLLECTIONS.subclouds, {}, { sort: { id: 1 } });
    const targets = docs.filter(isAuditable);
    // Forget the counts of subclouds no longer audited (deleted, or no longer auditable).
    const ids = new Set(targets.map((d) => d.id));
    for (const id of failures.keys()) if (!ids.has(id)) failures.delete(id);

    const report: CycleReport = { audited: 0, reachable: 0, unreachable: 0, changed: 0, durationMs: 0 };
    let next = 0;
    const worker = async () => {
      while (!stopping && next < targets.length) {
        const doc = targets[next++]!;
        try {
          const r = await auditOne(doc);
          report.audited++;
          if (r.reachable === true) report.reachable++;
          else if (r.reachable === false) report.unreachable++;
          if (r.changed) report.changed++;
        } catch (err) {
          // A command refused or a store outage: this subcloud is audited again next cycle.
          logger.warn({ subcloud: doc.name, err }, 'availability audit: could not record the audit of a subcloud');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, worker));
    report.durationMs = Math.round((performance.now() - started) * 10) / 10;
    logger.debug({ ...report, subclouds: docs.length }, 'availability audit cycle done');
    return report;
  }

  function runCycle(): Promise<CycleReport> {
    const p = last.catch(() => undefined).then(cycle);
    last = p;
    return p;
  }

  function arm(ms: number) {
    if (stopping) return;
    timer = setTimeout(() => {
      timer = undefined;
      runCycle()
        .catch((err: unknown) => logger.warn({ err }, 'availability audit cycle failed'))
        .finally(() => arm(intervalMs));
    }, ms);
  }

  return {
    name: AVAILABILITY_AUDIT,
    runCycle,
    async start() {
      stopping = false;
      if (timer) return;
      // The first cycle at once (in the background), as dcmanager audits at start.
      arm(0);
    },
    async stop() {
      stopping = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await last.catch(() => undefined);
    },
  };
}

export const availabilityAudit: WorkflowFactory = (deps) => createAvailabilityAudit(deps);
