// The two ways a call to a subcloud agent fails. The availability audit counts AgentUnreachableError
// (no answer at all); an AgentError is an answer (the agent is up) that says no.

export type UnreachableReason = 'refused' | 'timeout' | 'reset' | 'dns' | 'network';

export class AgentUnreachableError extends Error {
  override readonly name = 'AgentUnreachableError';
  constructor(
    readonly address: string,
    readonly reason: UnreachableReason,
    /** Attempts made (1 + retries). */
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(`subcloud agent at ${address} unreachable (${reason}) after ${attempts} attempt(s)`, options);
  }
}

export class AgentError extends Error {
  override readonly name = 'AgentError';
  constructor(
    readonly address: string,
    /** HTTP status; 0 is never used (that is AgentUnreachableError). */
    readonly status: number,
    /** The contract's error code (`not_found`, `invalid_state`, …) or `invalid_response` for a malformed answer. */
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> | undefined = undefined,
    options?: { cause?: unknown },
  ) {
    super(`subcloud agent at ${address}: ${status} ${code}: ${message}`, options);
  }

  /** 502/503/504: the agent (or something in front of it) is temporarily unable to answer. */
  get retryable(): boolean {
    return this.status === 502 || this.status === 503 || this.status === 504;
  }
}

const REFUSED = new Set(['ECONNREFUSED', 'EADDRNOTAVAIL']);
const RESET = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED']);
const TIMEOUT = new Set([
  'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
]);
const DNS = new Set(['ENOTFOUND', 'EAI_AGAIN']);
const NETWORK = new Set(['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN']);

/** Which transport failure this is, or undefined when the error is not one (a bug, an abort…). */
export function unreachableReason(err: unknown): UnreachableReason | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    if (REFUSED.has(code)) return 'refused';
    if (TIMEOUT.has(code)) return 'timeout';
    if (RESET.has(code)) return 'reset';
    if (DNS.has(code)) return 'dns';
    if (NETWORK.has(code)) return 'network';
  }
  return undefined;
}
