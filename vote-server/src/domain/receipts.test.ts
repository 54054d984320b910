import { describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { ballotCommitment, newTrackingCode, normalizeTrackingCode, openReceipt, sealReceipt } from "./receipts.js";

describe("receipts", () => {
  it("tracking codes are 26 Crockford base32 characters and do not repeat", () => {
    const codes = new Set(Array.from({ length: 10_000 }, newTrackingCode));
    expect(codes.size).toBe(10_000);
    for (const c of [...codes].slice(0, 100)) expect(c).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it("normalises what people type: case, dashes, spaces, I/L/O look-alikes", () => {
    const code = "0123456789ABCDEFGHJKMNPQRS";
    expect(normalizeTrackingCode("0123-4567-89ab-cdef-ghjk-mnpq-rs")).toBe(code);
    expect(normalizeTrackingCode("O123456789ABCDEFGHJKMNPQRS")).toBe(code);
    expect(normalizeTrackingCode("short")).toBeUndefined();
    expect(normalizeTrackingCode("0123456789ABCDEFGHJKMNPQRU")).toBeUndefined();
  });

  it("a sealed receipt opens only with the same key, election and voter", () => {
    const key = randomBytes(32);
    const receipt = { electionId: 1, seq: 42, ballotHash: "ab".repeat(32), trackingCode: newTrackingCode() };
    const sealed = sealReceipt(key, 7, receipt);
    expect(sealed).not.toContain(receipt.trackingCode);
    expect(openReceipt(key, 1, 7, sealed)).toEqual(receipt);
    expect(() => openReceipt(randomBytes(32), 1, 7, sealed)).toThrow();
    expect(() => openReceipt(key, 1, 8, sealed)).toThrow();
  });

  it("the commitment changes with the key or the ballot", () => {
    const key = randomBytes(32);
    const c = ballotCommitment(key, 1, 7, "3");
    expect(ballotCommitment(key, 1, 7, "3")).toBe(c);
    expect(ballotCommitment(key, 1, 7, "4")).not.toBe(c);
    expect(ballotCommitment(randomBytes(32), 1, 7, "3")).not.toBe(c);
  });
});
