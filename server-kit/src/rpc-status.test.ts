import { describe, expect, it } from "vitest";
import { status as Status } from "@grpc/grpc-js";
import { errorDetails } from "@voting/api";
import { AlreadyExistsError, InvalidArgumentError, ResourceExhaustedError, UnavailableError } from "./errors.js";
import { createLogger } from "./logger.js";
import { statusOf, toStatus } from "./rpc-status.js";

const sent = (err: Error) => {
  const s = toStatus(err, createLogger("test", "silent"));
  return { code: s.code, details: s.details, d: errorDetails({ metadata: s.metadata }) };
};

describe("domain errors at the rpc edge", () => {
  it("when a domain error is thrown, then its kind picks the code and its reason, field and retry hint become details", () => {
    const invalid = sent(new InvalidArgumentError("seats must be 1 to 100", { field: "seats" }));
    expect(invalid).toMatchObject({ code: Status.INVALID_ARGUMENT, d: { reason: "INVALID_ARGUMENT", fieldViolations: [{ field: "seats" }] } });
    expect(invalid.d?.retryDelayMs).toBeUndefined();
    expect(sent(new AlreadyExistsError("again", { reason: "ALREADY_VOTED", metadata: { electionId: "3" } }))).toMatchObject({
      code: Status.ALREADY_EXISTS,
      d: { reason: "ALREADY_VOTED", metadata: { electionId: "3" }, fieldViolations: [] },
    });
    expect(sent(new ResourceExhaustedError("slow down", { reason: "TOO_MANY_ATTEMPTS", retryAfterMs: 2_500 })).d?.retryDelayMs).toBe(2_500);
  });

  it("when UNAVAILABLE names no delay, then it still invites a retry; a field on another kind is not a BadRequest", () => {
    expect(sent(new UnavailableError("down", { reason: "PEER_UNAVAILABLE" })).d).toMatchObject({ reason: "PEER_UNAVAILABLE", retryDelayMs: 1_000 });
    expect(statusOf(new AlreadyExistsError("x", { field: "username" })).code).toBe(Status.ALREADY_EXISTS);
    expect(errorDetails({ metadata: statusOf(new AlreadyExistsError("x", { field: "username" })).metadata })?.fieldViolations).toEqual([]);
  });

  it("when anything else is thrown, then INTERNAL 'internal error' without details", () => {
    expect(sent(new Error("SELECT * FROM secret"))).toEqual({ code: Status.INTERNAL, details: "internal error", d: undefined });
  });
});
