// The subcloud agent contract v1 (docs/subcloud-agent.md) as zod schemas: the client validates answers with
// them, the simulator validates requests with them. Unknown fields are stripped (the contract may grow).
import { z } from 'zod';

export const DEFAULT_AGENT_PORT = 8120;

export const SYSTEM_MODES = ['simplex', 'duplex', 'duplex-direct'] as const;
export const DEPLOY_STATES = ['not-installed', 'installed', 'bootstrapped', 'configured'] as const;
/** dcmanager R24.03 ENDPOINT_TYPES_LIST (the subcloud_status.endpoint_type values). */
export const ENDPOINT_TYPES = [
  'platform', 'patching', 'identity', 'load', 'dc-cert', 'firmware', 'kubernetes', 'kube-rootca', 'usm',
] as const;
export const SYNC_STATUSES = ['unknown', 'in-sync', 'out-of-sync'] as const;
export const OPERATION_KINDS = [
  'install', 'bootstrap', 'config', 'rehome', 'prestage-precheck', 'prestage-prepare', 'prestage-packages', 'prestage-images',
] as const;
export const OPERATION_STATES = ['running', 'succeeded', 'failed'] as const;
/** The longest long-poll wait an agent honours. */
export const MAX_WAIT_MS = 30_000;

export type SystemMode = (typeof SYSTEM_MODES)[number];
export type DeployState = (typeof DEPLOY_STATES)[number];
export type EndpointType = (typeof ENDPOINT_TYPES)[number];
export type SyncStatus = (typeof SYNC_STATUSES)[number];
export type OperationKind = (typeof OPERATION_KINDS)[number];
export type OperationState = (typeof OPERATION_STATES)[number];

const isoTime = z.string().min(1);

export const systemControllerSchema = z.object({
  name: z.string().min(1),
  address: z.string().min(1),
  region_name: z.string().min(1).nullable().optional(),
  uuid: z.string().nullable().optional(),
});
export type SystemControllerRef = z.infer<typeof systemControllerSchema>;

export const systemInfoSchema = z.object({
  uuid: z.string().min(1),
  name: z.string().nullable(),
  region_name: z.string().nullable(),
  system_mode: z.enum(SYSTEM_MODES),
  software_version: z.string().nullable(),
  deploy_state: z.enum(DEPLOY_STATES),
  oam_floating_address: z.string().nullable().optional(),
  system_controller: systemControllerSchema.nullable().optional(),
  prestaged_versions: z.array(z.string()).optional(),
  time: isoTime.optional(),
});
export type SystemInfo = z.infer<typeof systemInfoSchema>;

export const healthSchema = z.object({
  status: z.enum(['healthy', 'degraded']),
  deploy_state: z.enum(DEPLOY_STATES).optional(),
  boot_time: isoTime.optional(),
  time: isoTime.optional(),
  running_operation: z.string().nullable().optional(),
});
export type Health = z.infer<typeof healthSchema>;

// A controller must accept endpoint types it does not know (HEAD adds and drops some).
export const endpointStatusSchema = z.object({
  endpoint_type: z.string().min(1),
  sync_status: z.enum(SYNC_STATUSES),
});
export type EndpointStatus = z.infer<typeof endpointStatusSchema>;
export const endpointsSchema = z.object({ endpoint_sync_status: z.array(endpointStatusSchema) });

const count = z.number().int().min(0);
export const alarmSummarySchema = z.object({
  critical_alarms: count,
  major_alarms: count,
  minor_alarms: count,
  warnings: count,
  cloud_status: z.enum(['OK', 'degraded', 'critical', 'disabled']),
});
export type AlarmSummary = z.infer<typeof alarmSummarySchema>;

export const operationRequestSchema = z.object({
  id: z.uuid(),
  kind: z.enum(OPERATION_KINDS),
  params: z.record(z.string(), z.unknown()).default({}),
});
export type OperationRequest = z.input<typeof operationRequestSchema>;

export const operationSchema = z.object({
  id: z.string().min(1),
  kind: z.enum(OPERATION_KINDS),
  state: z.enum(OPERATION_STATES),
  progress: z.object({
    percent: z.number().min(0).max(100),
    step: z.string(),
    step_index: z.number().int().min(0).optional(),
    step_count: z.number().int().min(0).optional(),
    message: z.string(),
  }),
  created_at: isoTime.optional(),
  updated_at: isoTime.optional(),
  finished_at: isoTime.nullable().optional(),
  result: z.record(z.string(), z.unknown()).nullable().optional(),
  error: z.object({ code: z.string(), message: z.string() }).nullable().optional(),
});
export type Operation = z.infer<typeof operationSchema>;
export const operationListSchema = z.object({ operations: z.array(operationSchema) });

export const errorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

// --- per-kind params (validated by the agent; the controller builds them) ---

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const release = z.string().regex(/^\d{2}\.\d{2}$/, 'must be a release MM.mm');

export const operationParamsSchemas = {
  install: z.looseObject({
    bmc_address: z.string().min(1),
    bmc_username: z.string().min(1),
    bmc_password: base64.min(1, 'is required'),
    software_version: release,
    bootstrap_interface: z.string().optional(),
    bootstrap_address: z.string().optional(),
    boot_device: z.string().optional(),
    image: z.string().optional(),
  }),
  bootstrap: z.looseObject({
    name: z.string().min(1),
    region_name: z.string().min(1),
    system_mode: z.enum(SYSTEM_MODES),
    system_controller: systemControllerSchema,
    external_oam_floating_address: z.string().optional(),
    sysadmin_password: base64.optional(),
  }),
  /** The deploy_config file as the operator uploaded it (YAML, possibly several documents). */
  config: z.looseObject({ deploy_config: z.string().optional() }),
  rehome: z.looseObject({
    system_controller: systemControllerSchema,
    systemcontroller_gateway_address: z.string().optional(),
  }),
  /** Reads what a prestage depends on (system mode, management-affecting alarms); changes nothing. */
  'prestage-precheck': z.looseObject({ software_version: release }),
  /** On the system controller's own agent: the shared packages of a release, for subclouds on another one. */
  'prestage-prepare': z.looseObject({ software_version: release, previous_software_version: release }),
  'prestage-packages': z.looseObject({ software_version: release, force: z.boolean().default(false), sysadmin_password: base64.optional() }),
  'prestage-images': z.looseObject({ software_version: release, force: z.boolean().default(false), sysadmin_password: base64.optional() }),
} satisfies Record<OperationKind, z.ZodType>;
