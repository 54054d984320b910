import { describe, expect, it } from "vitest";
import { voteV1 } from "@voting/api";
import type { LogRow } from "../db/ballot-repository.js";
import { encodeStreamBallots } from "./ballot-stream-encode.js";
import { toProtoEntry } from "./mapping.js";

const generated = (rows: LogRow[], sealed: boolean) => voteV1.StreamBallotsResponse.encode({ entries: rows.map((r) => toProtoEntry(r, sealed)) }).finish();

/** The bytes (or the error) of an encoder. */
const outcome = (encode: () => Uint8Array) => {
  try {
    return { bytes: Buffer.from(encode()).toString("hex") };
  } catch (err) {
    return { error: (err as Error).message };
  }
};

/** Same bytes as the generated encoder, which decode (generated decoder) to the same entries. */
function expectSameAsGenerated(rows: LogRow[], sealed: boolean) {
  const expected = outcome(() => generated(rows, sealed));
  const actual = outcome(() => encodeStreamBallots(rows, sealed));
  expect(actual).toEqual(expected);
  if (actual.bytes !== undefined) {
    const decoded = voteV1.StreamBallotsResponse.decode(Buffer.from(actual.bytes, "hex"));
    expect(decoded).toEqual(voteV1.StreamBallotsResponse.decode(generated(rows, sealed)));
    expect(decoded.entries).toHaveLength(rows.length);
  }
}

const row = (seq: number, over: Partial<LogRow> = {}): LogRow => ({
  electionId: 7,
  seq,
  trackingCode: "0123456789ABCDEFGHJKMNPQRS",
  choices: "3,1,2",
  hash: "a".repeat(64),
  commitment: "b".repeat(64),
  salt: "c".repeat(64),
  ...over,
});

// A seeded generator: the same cases on every run.
function random(seed: number) {
  let x = seed >>> 0;
  return () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const NUMBERS = [0, 1, 127, 128, 255, 16_383, 16_384, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 35, 2 ** 49, 2 ** 52, 2 ** 53 - 1];
const STRINGS = ["", "x", "a".repeat(64), "0123456789ABCDEFGHJKMNPQRS", "é", "日本語の票", "🗳️ ballot", "\u0000", "\ud800", "z\udfffz", "a".repeat(127), "a".repeat(128), "é".repeat(64), "b".repeat(16_384), "€".repeat(6_000)];
const CHOICES = ["", "1", "0", "3,1,2", "10,9,8,7,6,5,4,3,2,1", "007", "9007199254740991", "999999999999999", "1,,2", ",1", "1,", " 1", "1e3", "0x10", "-1", "1.5", "abc", "1,2,abc"];

describe("encoding StreamBallots pages by hand", () => {
  it("when a page holds usual opened, sealed and format 1 entries, then its bytes are the generated encoder's", () => {
    const rows = [row(1), row(2, { choices: "" }), row(3, { commitment: "", salt: "" }), row(4, { electionId: 0 }), row(5, { trackingCode: "" })];
    for (const sealed of [false, true]) {
      expectSameAsGenerated(rows, sealed);
      expectSameAsGenerated([], sealed);
      expectSameAsGenerated(rows.slice(0, 1), sealed);
    }
  });

  it("when entries carry edge values (0, 2^53-1, empty, long and non-ASCII strings, odd choices keys), then the bytes are the generated encoder's", () => {
    const next = random(9);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)];
    const number = () => (next() < 0.7 ? pick(NUMBERS) : Math.floor(next() * 2 ** (1 + Math.floor(next() * 53))));
    const longChoices = () => Array.from({ length: 1 + Math.floor(next() * 200) }, () => pick(NUMBERS)).join(",");
    for (let page = 0; page < 300; page++) {
      const rows = Array.from({ length: Math.floor(next() * 8) }, (): LogRow => ({
        electionId: number(),
        seq: number(),
        trackingCode: pick(STRINGS),
        choices: next() < 0.2 ? longChoices() : pick(CHOICES),
        hash: pick(STRINGS),
        commitment: next() < 0.3 ? "" : pick(STRINGS),
        salt: pick(STRINGS),
      }));
      expectSameAsGenerated(rows, next() < 0.5);
    }
  });

  it("when every entry fails to encode the plain way, then each goes through the generated encoder in its place", () => {
    const rows = CHOICES.map((choices, i) => row(i + 1, { choices }));
    expectSameAsGenerated(rows, false);
    expectSameAsGenerated([row(1, { seq: -1 }), row(2, { electionId: 2 ** 53 })], false);
  });

  it("when a page is larger than the reused buffer, then it grows and earlier pages keep their bytes", () => {
    const big = Array.from({ length: 5_000 }, (_, i) => row(i + 1, { choices: "1,2,3,4,5,6,7,8,9,10", hash: "é".repeat(64) }));
    const small = [row(1)];
    const first = encodeStreamBallots(small, false);
    const copy = Buffer.from(first);
    expectSameAsGenerated(big, false);
    expect(first).toEqual(copy);
    expectSameAsGenerated(small, false);
  });
});
