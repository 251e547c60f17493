// Errors rendered the way dcmanager (webob) renders them, so the dcmanager CLI shows the message:
// an HTML page whose text is status line, explanation, detail; JSON when the client prefers it.
import type { ErrorRequestHandler, Request, Response } from 'express';
import { EventIdConflictError, StoreUnavailableError } from '../../adapters/eventstore/port.js';
import { DomainError } from '../../domain/core/errors.js';

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

// webob's explanations, word for word.
const explanations: Record<number, string> = {
  400: 'The server could not comply with the request since it is either malformed or otherwise incorrect.',
  401:
    'This server could not verify that you are authorized to access the document you requested.  Either you supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply the credentials required.',
  403: 'Access was denied to this resource.',
  404: 'The resource could not be found.',
  405: 'The method is not allowed for this resource.',
  409: 'There was a conflict when trying to complete your request.',
  412: 'Request precondition failed.',
  413: 'The request is larger than the server is willing or able to process.',
  415: 'The request media type is not supported by this server.',
  422: 'Unable to process the contained instructions',
  429: 'This client has sent too many requests.',
  500: 'The server has either erred or is incapable of performing the requested operation.',
  503: 'The server is currently unavailable. Please try again at a later time.',
};

/** An HTTP-level refusal raised outside the domain (auth, parsing, routing). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
    /** Headers the answer carries (Retry-After, WWW-Authenticate). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function sendError(req: Request, res: Response, status: number, message: string, field?: string) {
  const title = titles[status] ?? 'Error';
  res.status(status);
  if (req.accepts(['text/html', 'application/json']) === 'application/json' && prefersJson(req)) {
    res.json({ error: { code: status, title, message, ...(field ? { field } : {}) } });
    return;
  }
  const statusLine = `${status} ${title}`;
  res
    .type('text/html; charset=UTF-8')
    .send(
      `<html>\n <head>\n  <title>${statusLine}</title>\n </head>\n <body>\n  <h1>${statusLine}</h1>\n  ` +
        `${explanations[status] ?? ''}<br /><br />\n${escapeHtml(message)}\n\n\n </body>\n</html>`,
    );
}

/** Only an explicit preference for JSON switches away from dcmanager's HTML (the CLI sends Accept: * / *). */
function prefersJson(req: Request): boolean {
  const accept = req.headers.accept ?? '';
  return /application\/json/i.test(accept);
}

/** Maps whatever a handler threw to a status; anything unexpected is a 500 with a fixed message and a log line. */
export function errorStatus(error: unknown): { status: number; message: string; field?: string; unexpected?: boolean } {
  if (error instanceof DomainError) return { status: error.status, message: error.message, field: error.field };
  if (error instanceof HttpError) return { status: error.status, message: error.message, field: error.field };
  if (error instanceof StoreUnavailableError) {
    return { status: 503, message: `The ${error.store} is unavailable; nothing was changed. Try again later.` };
  }
  if (error instanceof EventIdConflictError) {
    return { status: 409, message: 'The Idempotency-Key was already used for a different change' };
  }
  const e = error as { type?: string; status?: number; message?: string };
  // express/body-parser errors
  if (e?.type === 'entity.parse.failed') return { status: 400, message: 'Request body is malformed.' }; // dcmanager's words
  if (e?.type === 'entity.too.large') return { status: 413, message: 'Request body is too large' };
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return { status: e.status, message: e.message ?? 'Bad request' };
  }
  return { status: 500, message: 'The server has either erred or is incapable of performing the requested operation.', unexpected: true };
}

export const errorHandler: ErrorRequestHandler = (error, req, res, _next) => {
  const { status, message, field, unexpected } = errorStatus(error);
  if (error instanceof HttpError && error.headers) for (const [k, v] of Object.entries(error.headers)) res.setHeader(k, v);
  if (unexpected) req.log?.error({ err: error }, 'request failed');
  else if (status === 503) req.log?.warn({ err: error }, 'dependency unavailable');
  sendError(req, res, status, message, field);
};
