// The rich error model (google.rpc.Status in the `grpc-status-details-bin` trailer, AIP-193):
// servers encode it at their edge, the client decodes it, with the same googleapis messages.
import type { Metadata } from "@grpc/grpc-js";
import type { Any } from "../gen/google/protobuf/any.js";
import { Status as RpcStatus } from "../gen/google/rpc/status.js";
import { BadRequest, ErrorInfo, RetryInfo } from "../gen/google/rpc/error_details.js";

/** The domain of every ErrorInfo our servers send; reasons are unique within it (docs/errors.md). */
export const ERROR_DOMAIN = "voting.example";
export const STATUS_DETAILS_KEY = "grpc-status-details-bin";

const TYPE = "type.googleapis.com/google.rpc.";

export interface FieldViolation {
  /** Proto field path of the request, e.g. "ballot.choices". */
  field: string;
  description: string;
}

export interface ErrorDetails {
  code: number;
  message: string;
  /** Stable UPPER_SNAKE reason (ErrorInfo), e.g. ALREADY_VOTED. */
  reason?: string;
  domain?: string;
  metadata: Record<string, string>;
  /** BadRequest: the request fields at fault. */
  fieldViolations: FieldViolation[];
  /** RetryInfo: how long to wait before retrying, when a retry makes sense. */
  retryDelayMs?: number;
}

/** google.rpc.Status bytes for the trailer. */
export function encodeErrorDetails(d: Omit<ErrorDetails, "domain"> & { domain?: string }): Buffer {
  const details: Any[] = [];
  const any = (name: string, bytes: Uint8Array): Any => ({ typeUrl: `${TYPE}${name}`, value: Buffer.from(bytes) });
  if (d.reason) details.push(any("ErrorInfo", ErrorInfo.encode({ reason: d.reason, domain: d.domain ?? ERROR_DOMAIN, metadata: d.metadata }).finish()));
  if (d.fieldViolations.length > 0) {
    const fieldViolations = d.fieldViolations.map((v) => ({ ...v, reason: "", localizedMessage: undefined }));
    details.push(any("BadRequest", BadRequest.encode({ fieldViolations }).finish()));
  }
  if (d.retryDelayMs !== undefined) {
    const ms = Math.max(0, Math.ceil(d.retryDelayMs));
    details.push(any("RetryInfo", RetryInfo.encode({ retryDelay: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 } }).finish()));
  }
  return Buffer.from(RpcStatus.encode({ code: d.code, message: d.message, details }).finish());
}

/** The details of a gRPC error (ServiceError) if its trailers carry any; undefined otherwise or if they do not decode. */
export function errorDetails(err: unknown): ErrorDetails | undefined {
  const md = (err as { metadata?: Metadata } | undefined)?.metadata;
  const raw = typeof md?.get === "function" ? md.get(STATUS_DETAILS_KEY)[0] : undefined;
  if (!(raw instanceof Uint8Array)) return undefined;
  try {
    const status = RpcStatus.decode(raw);
    const out: ErrorDetails = { code: status.code, message: status.message, metadata: {}, fieldViolations: [] };
    for (const any of status.details) {
      if (any.typeUrl === `${TYPE}ErrorInfo`) {
        const info = ErrorInfo.decode(any.value);
        Object.assign(out, { reason: info.reason, domain: info.domain, metadata: info.metadata });
      } else if (any.typeUrl === `${TYPE}BadRequest`) {
        out.fieldViolations.push(...BadRequest.decode(any.value).fieldViolations.map((v) => ({ field: v.field, description: v.description })));
      } else if (any.typeUrl === `${TYPE}RetryInfo`) {
        const delay = RetryInfo.decode(any.value).retryDelay;
        if (delay) out.retryDelayMs = delay.seconds * 1000 + Math.round(delay.nanos / 1e6);
      }
    }
    return out;
  } catch {
    return undefined;
  }
}
