// What a page says when a service refuses or fails: a clear sentence, never a stack trace.
import { isServiceError, RefusedError, SplitViewError, Status, evidenceText } from "@voting/client";

const BY_CODE: Partial<Record<number, [number, string]>> = {
  [Status.INVALID_ARGUMENT]: [400, "That was not accepted"],
  [Status.UNAUTHENTICATED]: [401, "Sign-in failed or expired"],
  [Status.PERMISSION_DENIED]: [403, "Not allowed"],
  [Status.NOT_FOUND]: [404, "Not found"],
  [Status.ALREADY_EXISTS]: [409, "Already done"],
  [Status.FAILED_PRECONDITION]: [409, "Not possible now"],
  [Status.RESOURCE_EXHAUSTED]: [429, "Too many requests"],
  [Status.UNAVAILABLE]: [503, "A service is not reachable; try again shortly"],
  [Status.DEADLINE_EXCEEDED]: [504, "A service took too long; try again"],
};

export interface Explained {
  status: number;
  message: string;
  /** Internal errors are logged (without request bodies); refusals are not. */
  internal: boolean;
}

export function explain(err: unknown): Explained {
  if (isServiceError(err)) {
    const [status, lead] = BY_CODE[err.code] ?? [502, "A service failed"];
    const internal = !BY_CODE[err.code];
    return { status, message: internal ? `${lead}.` : `${lead}: ${err.details}.`, internal };
  }
  if (err instanceof SplitViewError) return { status: 409, message: `The log was rewritten. ${evidenceText(err)}`, internal: false };
  if (err instanceof RefusedError || err instanceof FormError) return { status: 400, message: err.message, internal: false };
  const code = (err as { code?: string; statusCode?: number }).code;
  if (code === "FST_CSRF_MISSING_SECRET" || code === "FST_CSRF_INVALID_TOKEN") {
    return { status: 403, message: "This form did not come from this site or has expired (its CSRF token is missing or wrong). Reload the page and send it again.", internal: false };
  }
  const statusCode = (err as { statusCode?: number }).statusCode;
  if (statusCode && statusCode >= 400 && statusCode < 500) return { status: statusCode, message: "The request could not be read.", internal: false };
  return { status: 500, message: "Something went wrong on this server; it has been logged.", internal: true };
}

/** Bad input caught by the web server itself, before asking a service. */
export class FormError extends Error {}
