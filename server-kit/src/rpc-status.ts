// The rpc edge's one mapping from domain errors to gRPC statuses with their details
// (ErrorInfo always, BadRequest for a field at fault, RetryInfo where waiting helps, in the
// grpc-status-details-bin trailer). Anything that is not a DomainError becomes INTERNAL
// "internal error", logged with its stack, never sent.
import { Metadata, status as Status } from "@grpc/grpc-js";
import { encodeErrorDetails, STATUS_DETAILS_KEY } from "@voting/api";
import { DomainError, type ErrorKind } from "./errors.js";
import type { Logger } from "./logger.js";

const CODE: Record<ErrorKind, Status> = {
  "invalid-argument": Status.INVALID_ARGUMENT,
  unauthenticated: Status.UNAUTHENTICATED,
  "permission-denied": Status.PERMISSION_DENIED,
  "not-found": Status.NOT_FOUND,
  "already-exists": Status.ALREADY_EXISTS,
  "failed-precondition": Status.FAILED_PRECONDITION,
  "resource-exhausted": Status.RESOURCE_EXHAUSTED,
  unavailable: Status.UNAVAILABLE,
  cancelled: Status.CANCELLED,
};

export interface StatusObject {
  code: Status;
  details: string;
  metadata?: Metadata;
}

/** UNAVAILABLE always invites a retry; this is the hint when the error names no delay. */
export const DEFAULT_RETRY_DELAY_MS = 1_000;

export function statusOf(err: DomainError): StatusObject {
  const code = CODE[err.kind];
  const retryDelayMs = err.retryAfterMs ?? (err.kind === "unavailable" ? DEFAULT_RETRY_DELAY_MS : undefined);
  const fieldViolations = err.kind === "invalid-argument" && err.field ? [{ field: err.field, description: err.message }] : [];
  const metadata = new Metadata();
  metadata.set(STATUS_DETAILS_KEY, encodeErrorDetails({ code, message: err.message, reason: err.reason, metadata: err.metadata, fieldViolations, retryDelayMs }));
  return { code, details: err.message, metadata };
}

export function toStatus(err: unknown, log: Logger): StatusObject {
  if (err instanceof DomainError) return statusOf(err);
  log.error({ err }, "unhandled error");
  return { code: Status.INTERNAL, details: "internal error" };
}
