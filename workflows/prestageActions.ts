// What a prestage does through agents, shared by the strategy orchestrator and the single-subcloud prestage: the
// subcloud's pre-check, the shared packages' preparation on the system controller's own agent, the packages and the
// images on the subcloud, and the subcloud's prestage-status as it goes. Every operation's id is given by the
// caller (derived from the step or the request), so a restarted workflow finds the operation it started instead of
// starting it again.
import { runPrestagePrecheck } from '../commands/distcloud/subcloudPrestage.js';
import { agentCallFailure, operationFailure, runAgentOperation } from '../adapters/subcloudAgent/runOperation.js';
import type { OperationKind } from '../adapters/subcloudAgent/contract.js';
import type { CommandContext } from '../commands/core/context.js';
import { NotFoundError } from '../domain/core/errors.js';
import type { PrestageFacts, PrestageStatus } from '../domain/distcloud/prestage.js';
import type { WorkflowDeps } from './workflow.js';

export interface PrestageActionOptions {
  /** Held open per poll of an operation (default 10 s): an end is seen at once. */
  longPollMs?: number;
  /** Polls when an agent ignores the long poll (default 1 s, scaled by WORKFLOW_TIME_SCALE). */
  pollMs?: number;
}

export function prestageActions(deps: WorkflowDeps, signal: () => AbortSignal, o: PrestageActionOptions = {}) {
  const scale = deps.settings.timeScale ?? 1;
  const follow = () => ({ longPollMs: o.longPollMs ?? 10_000, pollMs: o.pollMs ?? Math.max(20, 1_000 * scale), signal: signal() });

  /** The subcloud's pre-check: its facts, or why they could not be had. */
  const precheck = (address: string, operationId: string, release: string): Promise<{ facts: PrestageFacts } | { error: string }> =>
    runPrestagePrecheck(deps.agent, address, operationId, release, follow());

  /** One operation to its end: undefined when it succeeded, else why not. */
  async function operation(address: string, operationId: string, kind: OperationKind, params: Record<string, unknown>): Promise<string | undefined> {
    try {
      return operationFailure(await runAgentOperation(deps.agent, address, { id: operationId, kind, params }, follow()));
    } catch (err) {
      if (signal().aborted) throw err;
      return agentCallFailure(address, err, `run ${kind}`);
    }
  }

  /** The shared packages of `release` for subclouds on `previousRelease`, on the system controller's agent. */
  const prepare = (operationId: string, release: string, previousRelease: string) =>
    operation(deps.orchestration?.systemControllerAddress ?? '127.0.0.1', operationId, 'prestage-prepare', {
      software_version: release,
      previous_software_version: previousRelease,
    });

  /** `password`: base64, the subcloud's sysadmin login (as the rehome passes it). */
  const packages = (address: string, operationId: string, release: string, force: boolean, password: string) =>
    operation(address, operationId, 'prestage-packages', { software_version: release, force, sysadmin_password: password });

  const images = (address: string, operationId: string, release: string, force: boolean, password: string) =>
    operation(address, operationId, 'prestage-images', { software_version: release, force, sysadmin_password: password });

  /** The subcloud's prestage-status; a subcloud deleted meanwhile is no longer anyone's concern. */
  async function setStatus(subcloudId: number, prestageStatus: PrestageStatus, ctx: CommandContext, extra: { prestageVersions?: string; reason?: string } = {}) {
    try {
      await deps.subclouds.record(subcloudId, { type: 'RecordPrestageStatus', prestageStatus, ...extra, at: ctx.now.toISOString() }, ctx);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }

  return { precheck, prepare, packages, images, setStatus };
}

export type PrestageActions = ReturnType<typeof prestageActions>;
