// dcmanager's first check of a request body, before it looks anything up: present and not empty.
import { ValidationError } from './errors.js';

export const BODY_REQUIRED = 'Body required';

export function requireBody<T extends object>(body: T | undefined): T {
  if (!body || Object.keys(body).length === 0) throw new ValidationError(BODY_REQUIRED);
  return body;
}
