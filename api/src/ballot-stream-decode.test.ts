import { describe, expect, it, vi } from "vitest";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { decodeStreamBallotsResponse, lazyStreamBallotsResponse } from "./ballot-stream-decode.js";
import { StreamBallotsResponse, type BallotLogEntry } from "./gen/voting/vote/v1/vote.js";

const hex = (c: string) => c.repeat(64);
const entry = (seq: number, over: Partial<BallotLogEntry> = {}): BallotLogEntry => ({
  electionId: 7,
  seq,
  trackingCode: "0123456789ABCDEFGHJKMNPQRS",
  ballot: { choices: [3, 1, 2] },
  hash: hex("a"),
  commitment: hex("b"),
  salt: hex("c"),
  ...over,
});
const encode = (entries: BallotLogEntry[]) => StreamBallotsResponse.encode({ entries }).finish();

/** The generated decoder's answer, or its error. */
const outcome = (decode: (b: Uint8Array) => StreamBallotsResponse, bytes: Uint8Array) => {
  try {
    return { json: JSON.stringify(decode(bytes)), value: decode(bytes) };
  } catch (err) {
    return { error: (err as Error).message };
  }
};

/** Same entries, same key order, same error as StreamBallotsResponse.decode. */
function expectSameAsGenerated(bytes: Uint8Array) {
  const expected = outcome((b) => StreamBallotsResponse.decode(b), bytes);
  expect(outcome(decodeStreamBallotsResponse, bytes)).toEqual(expected);
  expect(outcome(decodeStreamBallotsResponse, Buffer.from(bytes))).toEqual(expected);
}

describe("decoding StreamBallots messages without BigInts", () => {
  it("when vote-server sends opened, sealed and format 1 entries, then they decode as the generated decoder decodes them", () => {
    const bytes = encode([entry(1), entry(2, { ballot: undefined, salt: "" }), entry(3, { commitment: "", salt: "", ballot: { choices: [] } }), entry(4, { electionId: 0, trackingCode: "" })]);
    expectSameAsGenerated(bytes);
    expectSameAsGenerated(encode([]));
    // Such messages take the fast path, not the generated decoder.
    const generated = vi.spyOn(StreamBallotsResponse, "decode");
    expect(decodeStreamBallotsResponse(bytes).entries[0]).toEqual(entry(1));
    expect(generated).not.toHaveBeenCalled();
    generated.mockRestore();
  });

  it("when a message is read lazily, then its entries are decoded once, on first read, to the same values", () => {
    const bytes = Buffer.from(encode([entry(1), entry(2, { ballot: undefined, salt: "" })]));
    const lazy = lazyStreamBallotsResponse(bytes);
    const first = lazy.entries;
    expect(lazy.entries).toBe(first);
    expect(JSON.stringify(lazy)).toBe(JSON.stringify(StreamBallotsResponse.decode(bytes)));
    expect(lazy).toEqual(StreamBallotsResponse.decode(bytes));
    // A malformed message fails where it is read, with the generated decoder's error.
    const broken = lazyStreamBallotsResponse(bytes.subarray(0, 40));
    expect(() => broken.entries).toThrow(outcome((b) => StreamBallotsResponse.decode(b), bytes.subarray(0, 40)).error);
  });

  it("when numbers need 7 bytes or more, then they decode exactly, and one past 2^53 fails as before", () => {
    for (const n of [127, 128, 2 ** 32, 2 ** 48 - 1, 2 ** 48, 2 ** 49, 2 ** 53 - 1]) {
      expectSameAsGenerated(encode([entry(n, { electionId: n, ballot: { choices: [n, 1] } })]));
    }
    const w = new BinaryWriter();
    w.uint32(10).fork().uint32(16).uint64(2n ** 53n + 2n).join();
    expect(() => decodeStreamBallotsResponse(w.finish())).toThrow("Value is larger than Number.MAX_SAFE_INTEGER");
  });

  it("when a message holds what vote-server does not send, then the generated decoder reads it", () => {
    // Unpacked choices, a field twice, an unknown field, non-ASCII and invalid UTF-8 strings.
    const unpacked = new BinaryWriter();
    unpacked.uint32(10).fork().uint32(16).uint64(5).uint32(34).fork().uint32(8).uint64(2).uint32(8).uint64(1).join().join();
    const twice = new BinaryWriter();
    twice.uint32(10).fork().uint32(16).uint64(5).uint32(16).uint64(6).uint32(42).string("x").uint32(42).string("y").join();
    const unknown = new BinaryWriter();
    unknown.uint32(10).fork().uint32(16).uint64(5).uint32(120).uint64(9).join();
    const badUtf8 = new BinaryWriter();
    badUtf8.uint32(10).fork().uint32(16).uint64(5).uint32(26).bytes(Uint8Array.of(0x41, 0xff, 0x42)).join();
    const messages = [unpacked, twice, unknown, badUtf8].map((w) => w.finish());
    for (const bytes of messages) expectSameAsGenerated(bytes);
    expectSameAsGenerated(encode([entry(1, { trackingCode: "Ünïcode ✓" }), entry(2, { hash: "\u{1F5F3}" })]));
    expect(decodeStreamBallotsResponse(messages[0]).entries[0].ballot).toEqual({ choices: [2, 1] });
    expect(decodeStreamBallotsResponse(messages[1]).entries[0]).toMatchObject({ seq: 6, hash: "y" });
  });

  it("when the bytes are cut short or corrupted anywhere, then the result or the error is the generated decoder's", () => {
    const bytes = encode([entry(1), entry(300, { ballot: undefined, salt: "" }), entry(2 ** 40)]);
    for (let cut = 0; cut < bytes.length; cut++) expectSameAsGenerated(bytes.subarray(0, cut));
    let seed = 42;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % 0x10000) / 0x10000;
    for (let i = 0; i < 3000; i++) {
      const mutated = Uint8Array.from(bytes);
      for (let k = 1 + Math.floor(random() * 3); k > 0; k--) mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256);
      expectSameAsGenerated(mutated);
    }
  });
});

describe("scanning StreamBallots messages into byte ranges", () => {
  it("when a message is plain, then each entry's fields are where the bytes say; otherwise it is not scanned", async () => {
    const { scanStreamBallots } = await import("./ballot-stream-decode.js");
    const { SPAN_STRIDE, SPAN_SEQ, SPAN_ELECTION_ID, SPAN_TRACKING_CODE, SPAN_CHOICES, SPAN_HASH, SPAN_COMMITMENT, SPAN_SALT } = await import("@voting/election-core");
    const bytes = Buffer.from(encode([entry(1), entry(2 ** 40, { ballot: undefined, salt: "" }), entry(3, { ballot: { choices: [] } })]));
    const scanned = scanStreamBallots(bytes)!;
    expect(scanned.count).toBe(3);
    const at = (i: number, slot: number) => bytes.toString("latin1", scanned.spans[i * SPAN_STRIDE + slot], scanned.spans[i * SPAN_STRIDE + slot + 1]);
    expect([scanned.spans[SPAN_ELECTION_ID], scanned.spans[SPAN_SEQ], scanned.spans[SPAN_STRIDE + SPAN_SEQ]]).toEqual([7, 1, 2 ** 40]);
    expect([at(0, SPAN_TRACKING_CODE), at(0, SPAN_HASH), at(0, SPAN_COMMITMENT), at(0, SPAN_SALT)]).toEqual([entry(1).trackingCode, hex("a"), hex("b"), hex("c")]);
    expect([...Buffer.from(at(0, SPAN_CHOICES), "latin1")]).toEqual([3, 1, 2]);
    expect(scanned.spans[SPAN_STRIDE + SPAN_CHOICES]).toBe(-1);
    expect(at(2, SPAN_CHOICES)).toBe("");
    expect(at(1, SPAN_SALT)).toBe("");
    // Non-ASCII, a field twice, unpacked choices, an unknown field: decoded instead.
    expect(scanStreamBallots(Buffer.from(encode([entry(1, { trackingCode: "Ü" })])))).toBeUndefined();
    const twice = new BinaryWriter();
    twice.uint32(10).fork().uint32(16).uint64(5).uint32(16).uint64(6).join();
    const unpacked = new BinaryWriter();
    unpacked.uint32(10).fork().uint32(34).fork().uint32(8).uint64(2).join().join();
    const unknown = new BinaryWriter();
    unknown.uint32(10).fork().uint32(120).uint64(9).join();
    for (const w of [twice, unpacked, unknown]) expect(scanStreamBallots(Buffer.from(w.finish()))).toBeUndefined();
    expect(scanStreamBallots(bytes.subarray(0, bytes.length - 1))).toBeUndefined();
  });
});
