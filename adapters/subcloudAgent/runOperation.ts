// One agent operation from start to end: started (or found, when the id was used before: the contract makes a
// repeated start a lookup), then followed until it is no longer running.
import type { SubcloudAgentClient } from './client.js';
import type { Operation, OperationRequest } from './contract.js';
import { AgentError, AgentUnreachableError } from './errors.js';

export interface RunOptions {
  /** Held open per poll (`?wait=`), so an end is seen at once. */
  longPollMs: number;
  /** Pause between polls when the agent ignores the long poll. */
  pollMs: number;
  signal?: AbortSignal;
}

export async function runAgentOperation(
  agent: Pick<SubcloudAgentClient, 'startOperation' | 'waitForOperation'>,
  address: string,
  request: OperationRequest,
  o: RunOptions,
): Promise<Operation> {
  const started = await agent.startOperation(address, request, o.signal ? { signal: o.signal } : {});
  if (started.state !== 'running') return started;
  return agent.waitForOperation(address, request.id, { longPollMs: o.longPollMs, pollMs: o.pollMs, ...(o.signal ? { signal: o.signal } : {}) });
}

/** Why a finished operation failed (undefined when it succeeded), as an operator reads it. */
export function operationFailure(op: Operation): string | undefined {
  if (op.state === 'succeeded') return undefined;
  if (!op.error) return `${op.kind} failed`;
  return op.error.code === 'operation_failed' || op.error.code === 'precondition_failed' ? op.error.message : `${op.error.message} (${op.error.code})`;
}

/** Why an agent call failed, as an operator reads it. */
export function agentCallFailure(address: string, err: unknown, what: string): string {
  if (err instanceof AgentUnreachableError) return `the subcloud agent at ${address} could not be reached to ${what}: ${err.reason} after ${err.attempts} attempt(s)`;
  if (err instanceof AgentError) return `the subcloud agent at ${address} refused to ${what}: ${err.code}: ${err.message}`;
  return `could not ${what} at ${address}: ${err instanceof Error ? err.message : String(err)}`;
}
