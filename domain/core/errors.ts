// Refusals a decider or handler can give. Each names the HTTP status the API answers with;
// the message is what the operator sees (for the dcmanager API, its exact wording).

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 412 | 422 | 500 | 503;

export class DomainError extends Error {
  constructor(
    readonly status: ErrorStatus,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad input: the request itself is wrong. */
export class ValidationError extends DomainError {
  constructor(message: string, field?: string) {
    super(400, message, field);
  }
}

export class NotFoundError extends DomainError {
  constructor(message: string) {
    super(404, message);
  }
}

/** The request clashes with current state (a duplicate, a concurrent change that kept winning). */
export class ConflictError extends DomainError {
  constructor(message: string) {
    super(409, message);
  }
}

/** Well-formed, but the state forbids it (dcmanager's manager-side refusals). */
export class UnprocessableError extends DomainError {
  constructor(message: string) {
    super(422, message);
  }
}

/** The client's If-Match (or an Idempotency-Key reused for a different request) does not hold. */
export class PreconditionFailedError extends DomainError {
  constructor(message: string) {
    super(412, message);
  }
}

/** A refusal dcmanager answers with 500 and a message of its own (e.g. `Batch migrate subclouds error: [...]`). */
export class ManagerError extends DomainError {
  constructor(message: string) {
    super(500, message);
  }
}
