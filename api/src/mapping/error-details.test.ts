import { describe, expect, it } from "vitest";
import { Metadata } from "@grpc/grpc-js";
import { encodeErrorDetails, ERROR_DOMAIN, errorDetails, STATUS_DETAILS_KEY } from "./error-details.js";

const withTrailer = (bytes: Buffer) => {
  const metadata = new Metadata();
  metadata.set(STATUS_DETAILS_KEY, bytes);
  return Object.assign(new Error("refused"), { code: 3, details: "refused", metadata });
};

describe("error details", () => {
  it("when details are encoded, then the client reads back reason, domain, metadata, field and retry delay", () => {
    const bytes = encodeErrorDetails({
      code: 3,
      message: "seats must be 1 to 100",
      reason: "INVALID_ARGUMENT",
      metadata: { electionId: "7" },
      fieldViolations: [{ field: "seats", description: "seats must be 1 to 100" }],
      retryDelayMs: 1_500,
    });
    expect(errorDetails(withTrailer(bytes))).toEqual({
      code: 3,
      message: "seats must be 1 to 100",
      reason: "INVALID_ARGUMENT",
      domain: ERROR_DOMAIN,
      metadata: { electionId: "7" },
      fieldViolations: [{ field: "seats", description: "seats must be 1 to 100" }],
      retryDelayMs: 1_500,
    });
  });

  it("when an error has no trailer or one that does not decode, then there are no details", () => {
    expect(errorDetails(new Error("plain"))).toBeUndefined();
    expect(errorDetails(undefined)).toBeUndefined();
    expect(errorDetails(withTrailer(Buffer.from([0xff, 0xff, 0xff])))).toBeUndefined();
  });

  it("when only a reason is given, then neither BadRequest nor RetryInfo is sent", () => {
    const d = errorDetails(withTrailer(encodeErrorDetails({ code: 6, message: "taken", reason: "USERNAME_TAKEN", metadata: {}, fieldViolations: [] })));
    expect(d).toEqual({ code: 6, message: "taken", reason: "USERNAME_TAKEN", domain: ERROR_DOMAIN, metadata: {}, fieldViolations: [] });
  });
});
