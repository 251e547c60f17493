// PATCH /v1.0/subclouds/{ref}/prestage: one subcloud prestaged outside any strategy (dcmanager's standalone
// prestage). The request is checked in dcmanager's order: a secondary subcloud (500), the body, the initial checks,
// then the subcloud's own pre-check (system mode, alarms) through its agent; then SubcloudPrestageRequested is
// recorded and the prestage workflow does the rest. Also here: the pre-check both this and a strategy step run.
import { randomUUID } from 'node:crypto';
import type { SubcloudAgentClient } from '../../adapters/subcloudAgent/client.js';
import type { Operation } from '../../adapters/subcloudAgent/contract.js';
import { agentCallFailure, operationFailure, runAgentOperation } from '../../adapters/subcloudAgent/runOperation.js';
import type { SecretBox } from '../../adapters/secrets/secretBox.js';
import { requireBody } from '../../domain/core/body.js';
import { ManagerError, NotFoundError, ValidationError } from '../../domain/core/errors.js';
import {
  prestageFailureMessage,
  singlePrestageForce,
  singlePrestagePassword,
  SUBCLOUD_INFO_UNAVAILABLE,
  type PrestageFacts,
} from '../../domain/distcloud/prestage.js';
import { isSecondaryState, SUBCLOUD_NOT_FOUND, type ActiveSubcloud } from '../../domain/distcloud/subcloud.js';
import { prestageRequestRefusal } from '../../domain/distcloud/subcloudPrestage.js';
import { deterministicUuid, type CommandContext } from '../core/context.js';
import type { SubcloudCommands, SubcloudWriteResult } from './subclouds.js';

export type PrestageRequestBody = Partial<Record<'sysadmin_password' | 'force' | 'release', unknown>>;

export interface SubcloudPrestageDeps {
  subclouds: Pick<SubcloudCommands, 'load' | 'record'>;
  agent: Pick<SubcloudAgentClient, 'startOperation' | 'waitForOperation'>;
  secrets: Pick<SecretBox, 'seal'>;
  /** Whether a prestage strategy is being applied. */
  prestageInProgress: () => Promise<boolean>;
  /** The system controller's release: what is prestaged. */
  softwareVersion: string;
  /** How long the API waits for the subcloud's pre-check (default 60 s). */
  precheckTimeoutMs?: number;
}

/** The agent's `prestage-precheck` result as the prestage rules read it. */
export function precheckFacts(op: Operation): PrestageFacts {
  const r = op.result ?? {};
  return {
    systemMode: typeof r.system_mode === 'string' ? r.system_mode : 'unknown',
    managementAffectingAlarms: typeof r.management_affecting_alarms === 'number' ? r.management_affecting_alarms : 0,
  };
}

/**
 * The subcloud's pre-check through its agent (an operation: the health query takes a while on a real subcloud):
 * the facts, or why they could not be had.
 */
export async function runPrestagePrecheck(
  agent: SubcloudPrestageDeps['agent'],
  address: string,
  operationId: string,
  release: string,
  o: { longPollMs: number; pollMs: number; signal?: AbortSignal },
): Promise<{ facts: PrestageFacts } | { error: string }> {
  try {
    const op = await runAgentOperation(agent, address, { id: operationId, kind: 'prestage-precheck', params: { software_version: release } }, o);
    const failure = operationFailure(op);
    return failure ? { error: failure } : { facts: precheckFacts(op) };
  } catch (err) {
    if (o.signal?.aborted) throw err;
    return { error: agentCallFailure(address, err, 'run the prestage pre-check') };
  }
}

export function subcloudPrestageCommands(deps: SubcloudPrestageDeps) {
  const timeoutMs = deps.precheckTimeoutMs ?? 60_000;

  async function request(id: number, body: PrestageRequestBody | undefined, ctx: CommandContext): Promise<SubcloudWriteResult & { release: string }> {
    const { state } = await deps.subclouds.load(id);
    if (state.status !== 'active') throw new NotFoundError(SUBCLOUD_NOT_FOUND);
    const s = state as ActiveSubcloud;
    if (isSecondaryState(s.deployStatus)) throw new ManagerError(`Cannot perform on ${s.deployStatus} state subcloud`);
    body = requireBody(body);
    const password = singlePrestagePassword(body.sysadmin_password);
    const force = singlePrestageForce(body.force);
    const release = body.release === undefined || body.release === null || body.release === '' ? deps.softwareVersion : String(body.release);
    if (release !== deps.softwareVersion && release !== s.softwareVersion) {
      throw new ValidationError(
        prestageFailureMessage({ subcloud: s.name, details: `Specified release is not supported. ${release} version must first be imported`, skip: true }),
        'release',
      );
    }
    const strategyInProgress = await deps.prestageInProgress();
    const refusal = prestageRequestRefusal(s, strategyInProgress);
    if (refusal) throw refusal;
    const requestId = ctx.idempotency ? deterministicUuid('prestage', ctx.idempotency.key) : randomUUID();
    const checked = await runPrestagePrecheck(deps.agent, s.bootstrapAddress ?? '', deterministicUuid('prestage-precheck', requestId), release, {
      longPollMs: 10_000,
      pollMs: 1_000,
      signal: AbortSignal.timeout(timeoutMs),
    }).catch((err: unknown) => ({ error: agentCallFailure(s.bootstrapAddress ?? '', err, 'run the prestage pre-check') }));
    if ('error' in checked) {
      throw new ValidationError(prestageFailureMessage({ subcloud: s.name, details: `${SUBCLOUD_INFO_UNAVAILABLE} (${checked.error})`, skip: false }));
    }
    const r = await deps.subclouds.record(
      id,
      {
        type: 'RequestPrestage',
        requestId,
        release,
        force,
        sysadminPassword: deps.secrets.seal(password),
        facts: checked.facts,
        strategyInProgress,
        at: ctx.now.toISOString(),
      },
      ctx,
    );
    return { ...r, release };
  }

  return { request };
}

export type SubcloudPrestageCommands = ReturnType<typeof subcloudPrestageCommands>;
