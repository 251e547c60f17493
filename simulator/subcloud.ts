// One simulated subcloud: what its agent reports, its operations and its injected faults.
// Operations need no timers: their progress is a function of the clock, settled whenever someone looks
// (a request, the admin API). That keeps 5,000 subclouds cheap and makes a manual clock work.
import type { Server } from 'node:http';
import { z } from 'zod';
import {
  ENDPOINT_TYPES, OPERATION_KINDS, operationParamsSchemas, SYNC_STATUSES,
  type DeployState, type OperationKind, type OperationState, type SyncStatus, type SystemControllerRef, type SystemMode,
} from '../adapters/subcloudAgent/contract.js';
import { cloudStatusOf } from '../domain/distcloud/subcloud.js';
import { randomUuid, type Random } from './random.js';

export const faultsSchema = z.object({
  /** Close the listener (connections are refused) until cleared. */
  unreachable: z.boolean().optional(),
  /** Delay every answer by this much. */
  slowMs: z.number().int().min(0).max(600_000).optional(),
  /** Operations of this kind fail (at their middle step) while set; null clears it. */
  failOperation: z.enum(OPERATION_KINDS).nullable().optional(),
  alarms: z.object({
    critical: z.number().int().min(0).default(0),
    major: z.number().int().min(0).default(0),
    minor: z.number().int().min(0).default(0),
    warnings: z.number().int().min(0).default(0),
  }).optional(),
  health: z.enum(['healthy', 'degraded']).optional(),
  /** Overrides per endpoint type. */
  syncStatus: z.record(z.string(), z.enum(SYNC_STATUSES)).optional(),
  /** The next `count` requests answer `status` (a JSON error body) without doing anything. */
  errorResponses: z.object({ status: z.number().int().min(400).max(599), count: z.number().int().min(1) }).optional(),
  /** The next n requests are processed, then the connection is destroyed without an answer. */
  dropResponses: z.number().int().min(0).optional(),
});
export type Faults = z.infer<typeof faultsSchema>;

export const OPERATION_STEPS: Record<OperationKind, readonly string[]> = {
  install: ['validating install values', 'connecting to the BMC', 'mounting the install image', 'installing the software', 'rebooting the host'],
  bootstrap: ['validating bootstrap values', 'preparing the host', 'running the bootstrap playbook', 'unlocking controller-0', 'waiting for platform services'],
  config: ['validating the deploy config', 'applying the deploy config', 'waiting for applications'],
  rehome: ['validating the new system controller', 'updating addresses and certificates', 'switching the system controller', 'waiting for the first sync'],
  'prestage-precheck': ['querying the system mode', 'querying the system health'],
  'prestage-prepare': ['checking the release', 'building the shared packages', 'publishing the shared packages'],
  'prestage-packages': ['prestage pre-check', 'downloading packages', 'installing packages'],
  'prestage-images': ['prestage pre-check', 'pulling images', 'verifying images'],
};

const ALLOWED_FROM: Record<OperationKind, readonly DeployState[] | 'any'> = {
  install: 'any',
  bootstrap: ['installed'],
  config: ['bootstrapped', 'configured'],
  rehome: ['configured'],
  'prestage-precheck': 'any',
  'prestage-prepare': ['configured'],
  'prestage-packages': ['configured'],
  'prestage-images': ['configured'],
};

const KEEP_FINISHED = 50;

export interface SimOperation {
  id: string;
  kind: OperationKind;
  paramsKey: string;
  params: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
  durationMs: number;
  failAtStep: number | null;
  failure: { code: string; message: string } | null;
  state: OperationState;
  stepIndex: number;
  finishedAt: number | null;
  result: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
}

export interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export const errorAnswer = (status: number, code: string, message: string, details?: Record<string, unknown>): Answer =>
  ({ status, body: { error: { code, message, ...(details ? { details } : {}) } } });

const iso = (ms: number) => new Date(ms).toISOString();

/** Canonical JSON (sorted keys) so a repeated request with reordered params is still the same request. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export interface SubcloudInit {
  index: number;
  name: string;
  address: string;
  port: number;
  systemMode: SystemMode;
  initialState: DeployState;
  softwareVersion: string;
  systemController: SystemControllerRef;
  random: Random;
  now: number;
}

export class SimSubcloud {
  readonly index: number;
  readonly name: string;
  readonly address: string;
  readonly port: number;
  uuid: string;
  systemName: string | null = null;
  regionName: string | null = null;
  systemMode: SystemMode;
  softwareVersion: string | null = null;
  deployState: DeployState;
  oamFloatingAddress: string | null = null;
  systemController: SystemControllerRef | null = null;
  /** release → which halves are prestaged (1 = packages, 2 = images). */
  prestaged = new Map<string, number>();
  faults: Faults = {};
  readonly operations = new Map<string, SimOperation>();
  running: SimOperation | null = null;
  bootTime: number;
  requests = { total: 0, byRoute: {} as Record<string, number> };
  server: Server | null = null;
  bootstrapValuesPath: string | undefined;
  installValuesPath: string | undefined;
  private readonly random: Random;

  constructor(init: SubcloudInit) {
    this.index = init.index;
    this.name = init.name;
    this.address = init.address;
    this.port = init.port;
    this.random = init.random;
    this.uuid = randomUuid(init.random);
    this.systemMode = init.systemMode;
    this.deployState = init.initialState;
    this.bootTime = init.now;
    if (init.initialState !== 'not-installed') this.softwareVersion = init.softwareVersion;
    if (init.initialState === 'bootstrapped' || init.initialState === 'configured') {
      this.systemName = init.name;
      this.regionName = randomUuid(init.random).replaceAll('-', '');
      this.systemController = init.systemController;
    }
  }

  countRequest(route: string) {
    this.requests.total++;
    this.requests.byRoute[route] = (this.requests.byRoute[route] ?? 0) + 1;
  }

  /** Brings operations up to `now`: steps advance, finished ones apply their effects. */
  settle(now: number) {
    const op = this.running;
    if (!op) return;
    const steps = OPERATION_STEPS[op.kind];
    const stepMs = op.durationMs / steps.length;
    const elapsed = now - op.createdAt;
    if (op.failAtStep !== null && elapsed >= (op.failAtStep + 1) * stepMs) {
      op.stepIndex = op.failAtStep;
      this.finish(op, op.createdAt + Math.round((op.failAtStep + 1) * stepMs), 'failed');
      return;
    }
    if (elapsed >= op.durationMs) {
      op.stepIndex = steps.length - 1;
      this.finish(op, op.createdAt + op.durationMs, 'succeeded');
      return;
    }
    const index = Math.min(steps.length - 1, Math.floor(elapsed / stepMs));
    if (index !== op.stepIndex) {
      op.stepIndex = index;
      op.updatedAt = op.createdAt + Math.round(index * stepMs);
    }
  }

  private finish(op: SimOperation, at: number, state: 'succeeded' | 'failed') {
    op.state = state;
    op.finishedAt = at;
    op.updatedAt = at;
    this.running = null;
    if (state === 'failed') {
      op.error = op.failure ?? {
        code: 'operation_failed',
        message: `${op.kind} failed at step "${OPERATION_STEPS[op.kind][op.stepIndex]}" (injected fault)`,
      };
    } else {
      op.result = this.apply(op);
    }
    this.prune();
  }

  private apply(op: SimOperation): Record<string, unknown> {
    const p = op.params;
    switch (op.kind) {
      case 'install':
        this.uuid = randomUuid(this.random);
        this.softwareVersion = String(p.software_version);
        this.deployState = 'installed';
        this.systemName = null;
        this.regionName = null;
        this.oamFloatingAddress = null;
        this.systemController = null;
        this.prestaged.clear();
        return { software_version: this.softwareVersion, uuid: this.uuid };
      case 'bootstrap':
        this.systemName = String(p.name);
        this.regionName = String(p.region_name);
        this.systemMode = p.system_mode as SystemMode;
        this.oamFloatingAddress = typeof p.external_oam_floating_address === 'string' ? p.external_oam_floating_address : null;
        this.systemController = p.system_controller as SystemControllerRef;
        this.deployState = 'bootstrapped';
        return { name: this.systemName, region_name: this.regionName, system_mode: this.systemMode };
      case 'config':
        this.deployState = 'configured';
        return {};
      case 'rehome':
        this.systemController = p.system_controller as SystemControllerRef;
        return { system_controller: this.systemController };
      case 'prestage-precheck': {
        const alarms = this.alarmCounts();
        return {
          system_mode: this.systemMode,
          software_version: this.softwareVersion,
          oam_floating_address: this.oamFloatingAddress,
          management_affecting_alarms: alarms.critical + alarms.major,
        };
      }
      case 'prestage-prepare':
        return { software_version: String(p.software_version), previous_software_version: String(p.previous_software_version) };
      case 'prestage-packages':
      case 'prestage-images': {
        const release = String(p.software_version);
        this.prestaged.set(release, (this.prestaged.get(release) ?? 0) | (op.kind === 'prestage-packages' ? 1 : 2));
        return { software_version: release };
      }
    }
  }

  private prune() {
    if (this.operations.size <= KEEP_FINISHED) return;
    for (const [id, op] of this.operations) {
      if (this.operations.size <= KEEP_FINISHED) break;
      if (op.state !== 'running') this.operations.delete(id);
    }
  }

  /** POST /v1/operations. */
  startOperation(body: unknown, now: number, durationMs: number): Answer {
    const req = z.object({
      id: z.uuid(),
      kind: z.enum(OPERATION_KINDS),
      params: z.record(z.string(), z.unknown()).default({}),
    }).safeParse(body);
    if (!req.success) return badRequest(req.error);
    const { id, kind } = req.data;
    const params = operationParamsSchemas[kind].safeParse(req.data.params);
    if (!params.success) return badRequest(params.error, 'params');
    this.settle(now);
    const paramsKey = canonical({ kind, params: req.data.params });
    const existing = this.operations.get(id);
    if (existing) {
      if (existing.paramsKey !== paramsKey) {
        return errorAnswer(409, 'id_conflict', `operation ${id} exists with a different kind or params`, { kind: existing.kind });
      }
      return { status: 200, body: this.view(existing) };
    }
    if (this.running) {
      return errorAnswer(409, 'operation_in_progress', `operation ${this.running.id} (${this.running.kind}) is running`,
        { running_id: this.running.id });
    }
    const allowed = ALLOWED_FROM[kind];
    if (allowed !== 'any' && !allowed.includes(this.deployState)) {
      return errorAnswer(409, 'invalid_state',
        `${kind} needs deploy state ${allowed.map((s) => `'${s}'`).join(' or ')} (now '${this.deployState}')`,
        { deploy_state: this.deployState });
    }
    const steps = OPERATION_STEPS[kind];
    let failAtStep: number | null = this.faults.failOperation === kind ? Math.floor(steps.length / 2) : null;
    let failure: SimOperation['failure'] = null;
    const force = (params.data as { force?: boolean }).force === true;
    if ((kind === 'prestage-packages' || kind === 'prestage-images') && !force && this.alarmCounts().critical + this.alarmCounts().major > 0) {
      failAtStep = 0;
      failure = {
        code: 'precondition_failed',
        message: 'Subcloud has management affecting alarm(s). Please resolve the alarm condition(s) or use --force option and try again.',
      };
    }
    const op: SimOperation = {
      id, kind, paramsKey, params: params.data as Record<string, unknown>, createdAt: now, updatedAt: now, durationMs,
      failAtStep, failure, state: 'running', stepIndex: 0, finishedAt: null, result: null, error: null,
    };
    this.operations.set(id, op);
    this.running = op;
    this.settle(now);
    return { status: 202, body: this.view(op), headers: { location: `/v1/operations/${id}` } };
  }

  /** The agent restarted: the running operation is interrupted, never resumed. */
  restart(now: number) {
    this.settle(now);
    const op = this.running;
    if (op) {
      op.failure = { code: 'interrupted', message: `the agent restarted during step "${OPERATION_STEPS[op.kind][op.stepIndex]}"` };
      this.finish(op, now, 'failed');
    }
    this.bootTime = now;
  }

  view(op: SimOperation) {
    const steps = OPERATION_STEPS[op.kind];
    const percent = op.state === 'succeeded' ? 100 : Math.floor((op.stepIndex * 100) / steps.length);
    const step = steps[op.stepIndex] ?? '';
    const message = op.state === 'succeeded' ? `${op.kind} complete`
      : op.state === 'failed' ? (op.error?.message ?? 'failed')
        : `step ${op.stepIndex + 1}/${steps.length}: ${step}`;
    return {
      id: op.id, kind: op.kind, state: op.state,
      progress: { percent, step, step_index: op.stepIndex, step_count: steps.length, message },
      created_at: iso(op.createdAt), updated_at: iso(op.updatedAt),
      finished_at: op.finishedAt === null ? null : iso(op.finishedAt),
      result: op.result, error: op.error,
    };
  }

  alarmCounts() {
    return this.faults.alarms ?? { critical: 0, major: 0, minor: 0, warnings: 0 };
  }

  system(now: number) {
    return {
      uuid: this.uuid,
      name: this.systemName,
      region_name: this.regionName,
      system_mode: this.systemMode,
      software_version: this.softwareVersion,
      deploy_state: this.deployState,
      oam_floating_address: this.oamFloatingAddress,
      system_controller: this.systemController,
      prestaged_versions: [...this.prestaged].filter(([, bits]) => bits === 3).map(([release]) => release),
      time: iso(now),
    };
  }

  health(now: number) {
    return {
      status: this.faults.health ?? 'healthy',
      deploy_state: this.deployState,
      boot_time: iso(this.bootTime),
      time: iso(now),
      running_operation: this.running?.id ?? null,
    };
  }

  endpoints() {
    // A bootstrapped subcloud syncs with its controller whether or not a deploy config followed.
    const base: SyncStatus = this.deployState === 'configured' || this.deployState === 'bootstrapped' ? 'in-sync' : 'unknown';
    return {
      endpoint_sync_status: ENDPOINT_TYPES.map((t) => ({ endpoint_type: t, sync_status: this.faults.syncStatus?.[t] ?? base })),
    };
  }

  alarms() {
    const a = this.alarmCounts();
    return {
      critical_alarms: a.critical, major_alarms: a.major, minor_alarms: a.minor, warnings: a.warnings,
      cloud_status: cloudStatusOf({ criticalAlarms: a.critical, majorAlarms: a.major, minorAlarms: a.minor }),
    };
  }
}

function badRequest(error: z.ZodError, prefix?: string): Answer {
  const issues = error.issues.map((i) => `${[prefix, ...i.path].filter((p) => p !== undefined).join('.') || '(body)'}: ${i.message}`);
  return errorAnswer(400, 'bad_request', issues[0] ?? 'invalid request', { issues });
}
