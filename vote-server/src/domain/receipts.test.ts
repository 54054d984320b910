import { describe, expect, it } from "vitest";
import { createHash, randomBytes } from "node:crypto";
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

  it("a version 2 receipt is marked as such, opens only with its key, election and voter, and not once altered", () => {
    const key = randomBytes(16);
    const receipt = { electionId: 3, seq: 9, ballotHash: "cd".repeat(32), trackingCode: newTrackingCode() };
    const sealed = sealReceipt(key, 7, receipt);
    expect(sealed.startsWith("2.")).toBe(true);
    expect(openReceipt(key, 3, 7, sealed)).toEqual(receipt);
    expect(() => openReceipt(key, 4, 7, sealed)).toThrow();
    const raw = Buffer.from(sealed.slice(2), "base64");
    raw[20] ^= 1;
    expect(() => openReceipt(key, 3, 7, `2.${raw.toString("base64")}`)).toThrow();
    // Fresh IVs: the same receipt never seals to the same text.
    expect(sealReceipt(key, 7, receipt)).not.toBe(sealed);
  });

  it("a version 1 receipt (HKDF key per ballot, sealed before version 2) still opens, and only with its key, election and voter", () => {
    // Sealed by the version 1 code with this key, an IV of a0..ab, election 3, voter 7.
    const key = Buffer.from("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "hex");
    const sealed = "oKGio6SlpqeoqaqrpasIdm79b+V5A/E7LHfHE5mSBARPIVMNiB8zhfyAq9dNMIddKi1m8XeYbQsdOWWmC+a2FdTCzc/2uMQNGVpH+69AHqxzhYUoQP86AQo5Mf51yJQV2X3Ffp37g9Jr0aDtVhT++qxKXcVyrB6ybeYeg+n9JRA=";
    expect(openReceipt(key, 3, 7, sealed)).toEqual({ electionId: 3, seq: 42, ballotHash: "ab".repeat(32), trackingCode: "0123456789ABCDEFGHJKMNPQRS" });
    expect(() => openReceipt(key, 3, 8, sealed)).toThrow();
    expect(() => openReceipt(randomBytes(32), 3, 7, sealed)).toThrow();
  });

  it("the commitment is SHA-256 of its label, the key, the election and voter and the ballot, as stored commitments were made", () => {
    const key = randomBytes(32);
    const stored = createHash("sha256").update("voting-commitment-v1\n").update(key).update("\n5:11\n3,1,2\n").digest("hex");
    expect(ballotCommitment(key, 5, 11, "3,1,2")).toBe(stored);
  });

  it("the commitment changes with the key or the ballot", () => {
    const key = randomBytes(32);
    const c = ballotCommitment(key, 1, 7, "3");
    expect(ballotCommitment(key, 1, 7, "3")).toBe(c);
    expect(ballotCommitment(key, 1, 7, "4")).not.toBe(c);
    expect(ballotCommitment(randomBytes(32), 1, 7, "3")).not.toBe(c);
  });
});
