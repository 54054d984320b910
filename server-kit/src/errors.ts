// Domain errors: what went wrong in the domain's words, with no transport in them. Each has a
// stable reason (UPPER_SNAKE, listed in docs/errors.md; clients switch on it, never on the
// text), the field at fault for bad input, and a retry hint where waiting helps. The rpc edge
// (rpc-status.ts) is the one place that turns them into gRPC statuses and error details.

export type ErrorKind =
  | "invalid-argument"
  | "unauthenticated"
  | "permission-denied"
  | "not-found"
  | "already-exists"
  | "failed-precondition"
  | "resource-exhausted"
  | "unavailable"
  | "cancelled";

export interface DomainErrorOptions {
  /** Stable UPPER_SNAKE reason; defaults to the kind's own (e.g. NOT_FOUND). */
  reason?: string;
  /** The request field at fault (proto field path, e.g. "ballot.choices"). */
  field?: string;
  /** How long to wait before retrying, when a retry makes sense. */
  retryAfterMs?: number;
  /** Facts a client may act on (e.g. { electionId: "7" }); never secrets. */
  metadata?: Record<string, string>;
  cause?: unknown;
}

export abstract class DomainError extends Error {
  abstract readonly kind: ErrorKind;
  readonly #reason: string | undefined;
  readonly field: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly metadata: Record<string, string>;

  constructor(message: string, opts: DomainErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.#reason = opts.reason;
    this.field = opts.field;
    this.retryAfterMs = opts.retryAfterMs;
    this.metadata = opts.metadata ?? {};
  }

  get reason(): string {
    return this.#reason ?? this.kind.toUpperCase().replaceAll("-", "_");
  }
}

export class InvalidArgumentError extends DomainError {
  readonly kind = "invalid-argument";
}
export class UnauthenticatedError extends DomainError {
  readonly kind = "unauthenticated";
}
export class PermissionDeniedError extends DomainError {
  readonly kind = "permission-denied";
}
export class NotFoundError extends DomainError {
  readonly kind = "not-found";
}
export class AlreadyExistsError extends DomainError {
  readonly kind = "already-exists";
}
export class FailedPreconditionError extends DomainError {
  readonly kind = "failed-precondition";
}
export class ResourceExhaustedError extends DomainError {
  readonly kind = "resource-exhausted";
}
export class UnavailableError extends DomainError {
  readonly kind = "unavailable";
}
export class CancelledError extends DomainError {
  readonly kind = "cancelled";
}
