// Failed logins, limited per user name and per client address: after `maxFailures` failures within `windowMs`,
// further attempts from that address or for that user are refused with 429 until the window has passed, before
// any password is checked. Kept per process (each API process limits on its own); time comes from the clock.
import type { Clock } from '../../domain/core/clock.js';
import { HttpError } from '../http/errors.js';

export interface LoginLimiter {
  /** Throws 429 when the user or the address is locked out. */
  check(user: string, address: string): void;
  failed(user: string, address: string): void;
  succeeded(user: string, address: string): void;
}

export interface LoginLimits {
  maxFailures: number;
  windowMs: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { maxFailures: 5, windowMs: 5 * 60_000 };

export function loginLimiter(clock: Clock, limits: LoginLimits = DEFAULT_LOGIN_LIMITS): LoginLimiter {
  /** Failure times per key, oldest first; keys are `user:<name>` and `addr:<address>`. */
  const failures = new Map<string, number[]>();

  const recent = (key: string, now: number) => {
    const kept = (failures.get(key) ?? []).filter((t) => t > now - limits.windowMs);
    if (kept.length === 0) failures.delete(key);
    else failures.set(key, kept);
    return kept;
  };

  return {
    check(user, address) {
      const now = clock.now().getTime();
      for (const key of [`user:${user}`, `addr:${address}`]) {
        const times = recent(key, now);
        if (times.length >= limits.maxFailures) {
          const retryAfter = Math.ceil((times[0]! + limits.windowMs - now) / 1000);
          throw new HttpError(429, `Too many failed logins; try again in ${retryAfter} s.`, undefined, { 'Retry-After': String(retryAfter) });
        }
      }
    },
    failed(user, address) {
      const now = clock.now().getTime();
      for (const key of [`user:${user}`, `addr:${address}`]) failures.set(key, [...recent(key, now), now]);
    },
    succeeded(user) {
      failures.delete(`user:${user}`);
    },
  };
}
