// Request parsing with zod: the first problem becomes a 400 naming the field and the reason.
import type { z } from 'zod';
import { ValidationError } from '../../domain/core/errors.js';

export function parseWith<S extends z.ZodType>(schema: S, value: unknown, where = 'body'): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map(String);
    throw new ValidationError(`Unknown field${keys.length > 1 ? 's' : ''} in ${where}: ${keys.join(', ')}`, keys[0]);
  }
  const field = issue.path.map(String).join('.');
  throw new ValidationError(field ? `Invalid ${field}: ${issue.message}` : `Invalid ${where}: ${issue.message}`, field || undefined);
}

/**
 * A JSON body as dcmanager's geo-redundancy controllers take it: an object (else 400 `Invalid request body format`),
 * unknown keys ignored; an empty body is undefined (each resource answers `Body required` itself).
 */
export function jsonObjectBody<T extends Record<string, unknown>>(body: unknown): T | undefined {
  if (body === undefined || body === null || body === '') return undefined;
  if (typeof body !== 'object' || Array.isArray(body)) throw new ValidationError('Invalid request body format');
  return body as T;
}

