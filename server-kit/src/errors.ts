// One error class per gRPC status we send; rpc/ code throws these, the handler
// adapter turns them into statuses. Anything else becomes INTERNAL "internal error".
import { status as Status } from "@grpc/grpc-js";

export class RpcError extends Error {
  constructor(
    readonly code: Status,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class InvalidArgumentError extends RpcError {
  constructor(message: string) {
    super(Status.INVALID_ARGUMENT, message);
  }
}
export class UnauthenticatedError extends RpcError {
  constructor(message: string) {
    super(Status.UNAUTHENTICATED, message);
  }
}
export class PermissionDeniedError extends RpcError {
  constructor(message: string) {
    super(Status.PERMISSION_DENIED, message);
  }
}
export class NotFoundError extends RpcError {
  constructor(message: string) {
    super(Status.NOT_FOUND, message);
  }
}
export class AlreadyExistsError extends RpcError {
  constructor(message: string) {
    super(Status.ALREADY_EXISTS, message);
  }
}
export class FailedPreconditionError extends RpcError {
  constructor(message: string) {
    super(Status.FAILED_PRECONDITION, message);
  }
}
export class ResourceExhaustedError extends RpcError {
  constructor(message: string) {
    super(Status.RESOURCE_EXHAUSTED, message);
  }
}
export class UnavailableError extends RpcError {
  constructor(message: string) {
    super(Status.UNAVAILABLE, message);
  }
}

/** A gRPC error from a downstream call (grpc-js ServiceError). */
export function isGrpcStatusError(err: unknown): err is Error & { code: Status; details: string } {
  return err instanceof Error && typeof (err as { code?: unknown }).code === "number" && "details" in err;
}
