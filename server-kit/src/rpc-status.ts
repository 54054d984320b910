// The rpc edge's one mapping from domain errors to gRPC statuses. Anything that is not a
// DomainError becomes INTERNAL "internal error", logged with its stack, never sent.
import { status as Status, type Metadata } from "@grpc/grpc-js";
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

export function statusOf(err: DomainError): StatusObject {
  return { code: CODE[err.kind], details: err.message };
}

export function toStatus(err: unknown, log: Logger): StatusObject {
  if (err instanceof DomainError) return statusOf(err);
  log.error({ err }, "unhandled error");
  return { code: Status.INTERNAL, details: "internal error" };
}
