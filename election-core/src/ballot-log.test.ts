import { describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { ballotCommitment, chainAndLeafHash, chainHash, checkChain, entryBytes, entryProblem, genesisHash, type LogEntryContent, type LogFormat } from "./ballot-log.js";

const definition = { id: 1, title: "General election", method: "plurality", seats: 1, candidateSource: "registered_users", candidates: [] };
const saltOf = (seq: number) => seq.toString(16).padStart(2, "0").repeat(32);

function chain(format: LogFormat, n: number) {
  let hash = genesisHash(format, definition);
  const entries = [];
  for (let seq = 1; seq <= n; seq++) {
    const choices = [(seq % 3) + 1];
    const salt = format === 2 ? saltOf(seq) : undefined;
    const e: LogEntryContent = { electionId: 1, seq, trackingCode: `CODE${seq}`, commitment: salt ? ballotCommitment(salt, choices) : "", choices, salt };
    hash = chainHash(format, hash, e);
    entries.push({ ...e, hash });
  }
  return entries;
}

// The test vector of docs/ballot-log.md, "Format 2 test vector".
const VECTOR = {
  salt: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
  choices: [2, 1, 3],
  commitment: "56734ac056035b805082be08393113c51aeb1b06d26d18459d2feeabda1b1ebf",
  entry: { electionId: 7, seq: 1, trackingCode: "0123456789ABCDEFGHJKMNPQRS" },
  definition: { id: 7, title: "Test", method: "irv", seats: 1, candidateSource: "list", candidates: [{ id: 3, name: "C" }, { id: 1, name: "A" }, { id: 2, name: "B" }] },
  genesis: "63c4505f2dbc4a79c44758d7175152b22e010b90da10ce972a05918289a488f8",
  hash1: "42df1c3bfcf1777bcbf329af01e8f67673e2d884136c6b3c3991fa65f6fcf910",
  hashAfterZero: "60547b0aab17a5d0b794e04b2b2e153deaa1386b154b2320862f93617afa4abd",
  merkleLeaf: "eb9a31c88bd9be6e3d7ee75ef89d39cc995fab0965456be326cf6b9dec1e2c97",
};

describe("ballot log format 2", () => {
  it("commits to the ballot with the salt: the documented test vector", () => {
    expect(ballotCommitment(VECTOR.salt, VECTOR.choices)).toBe(VECTOR.commitment);
  });

  it("encodes an entry as five LF-terminated lines with the commitment and neither choices nor salt", () => {
    const e = { ...VECTOR.entry, commitment: VECTOR.commitment, choices: VECTOR.choices, salt: VECTOR.salt };
    const bytes = entryBytes(2, e);
    expect(bytes.toString()).toBe(`voting-ballot-log-v2\n7\n1\n0123456789ABCDEFGHJKMNPQRS\n${VECTOR.commitment}\n`);
    expect(bytes).toHaveLength(117);
    // The same bytes whether or not the ballot is opened.
    expect(entryBytes(2, { ...VECTOR.entry, commitment: VECTOR.commitment })).toEqual(bytes);
  });

  it("chains the documented vector from its genesis and from a zero hash", () => {
    expect(genesisHash(2, VECTOR.definition)).toBe(VECTOR.genesis);
    const e = { ...VECTOR.entry, commitment: VECTOR.commitment };
    expect(chainHash(2, VECTOR.genesis, e)).toBe(VECTOR.hash1);
    expect(chainHash(2, "00".repeat(32), e)).toBe(VECTOR.hashAfterZero);
  });

  it("gives identical ballots different commitments under different salts", () => {
    expect(ballotCommitment(saltOf(1), [1])).not.toBe(ballotCommitment(saltOf(2), [1]));
  });

  it("rejects a salt that is not 32 bytes of lower-case hex", () => {
    expect(() => ballotCommitment("00", [1])).toThrow();
    expect(() => ballotCommitment("AB".repeat(32), [1])).toThrow();
  });

  it("takes as hex exactly 64 lower-case digits 0-9 a-f, for salts and commitments alike", () => {
    const salt = VECTOR.salt;
    const entry = { ...VECTOR.entry, commitment: VECTOR.commitment, choices: VECTOR.choices, salt };
    expect(entryProblem(2, entry, true)).toBeUndefined();
    // Every non-digit a hex digit's neighbour or alias: upper case, the next letters, and code units whose low byte is a digit.
    const bad = ["A", "F", "G", "g", "/", ":", "`", " ", "\u0130", "\u0161", "\uff10", "\ud83d"];
    for (const c of bad) {
      for (const at of [0, 37, 63]) {
        const wrong = (s: string) => s.slice(0, at) + c + s.slice(at + 1);
        expect(() => ballotCommitment(wrong(salt), VECTOR.choices)).toThrow();
        expect(entryProblem(2, { ...entry, salt: wrong(salt) }, true)).toBe("the ballot of entry 1 comes without a valid salt");
        expect(entryProblem(2, { ...entry, commitment: wrong(VECTOR.commitment) }, true)).toBe("entry 1 has no valid commitment");
      }
    }
    for (const s of [salt.slice(1), `${salt}0`, "", "0".repeat(128)]) {
      expect(() => ballotCommitment(s, VECTOR.choices)).toThrow();
      expect(entryProblem(2, { ...entry, commitment: s }, false)).toBe("entry 1 has no valid commitment");
    }
    for (const digits of ["0123456789abcdef".repeat(4), "f".repeat(64), "0".repeat(64)]) expect(ballotCommitment(digits, [1])).toMatch(/^[0-9a-f]{64}$/);
  });

  it("checks the chain of a sealed log (commitments only) and counts the withheld ballots", () => {
    const entries = chain(2, 10).map(({ choices: _c, salt: _s, ...sealed }) => sealed);
    expect(checkChain(2, { seq: 0, hash: genesisHash(2, definition) }, entries)).toEqual({ ok: true, headSeq: 10, headHash: entries[9].hash, sealed: 10 });
    expect(checkChain(2, { seq: 0, hash: genesisHash(2, definition) }, entries, { requireBallots: true })).toMatchObject({ ok: false, badSeq: 1 });
  });

  it("names the entry whose ballot does not open its commitment, though its hash still chains", () => {
    const start = { seq: 0, hash: genesisHash(2, definition) };
    const altered = chain(2, 10);
    altered[4] = { ...altered[4], choices: [9] };
    expect(checkChain(2, start, altered)).toEqual({ ok: false, badSeq: 5, reason: "the ballot of entry 5 does not open its commitment" });
    const resalted = chain(2, 10);
    resalted[6] = { ...resalted[6], salt: saltOf(99) };
    expect(checkChain(2, start, resalted)).toMatchObject({ ok: false, badSeq: 7 });
    const unsalted = chain(2, 10);
    unsalted[2] = { ...unsalted[2], salt: "" };
    expect(checkChain(2, start, unsalted)).toMatchObject({ ok: false, badSeq: 3 });
  });

  it("names the first bad seq when a commitment is changed, or an entry removed, inserted or reordered", () => {
    const start = { seq: 0, hash: genesisHash(2, definition) };
    const recommitted = chain(2, 10);
    recommitted[4] = { ...recommitted[4], choices: [9], commitment: ballotCommitment(recommitted[4].salt!, [9]) };
    expect(checkChain(2, start, recommitted)).toMatchObject({ ok: false, badSeq: 5, reason: "hash mismatch at seq 5" });
    const removed = chain(2, 10);
    removed.splice(6, 1);
    expect(checkChain(2, start, removed)).toMatchObject({ ok: false, badSeq: 7 });
    const reordered = chain(2, 10);
    [reordered[2], reordered[3]] = [{ ...reordered[3], seq: 3 }, { ...reordered[2], seq: 4 }];
    expect(checkChain(2, start, reordered)).toMatchObject({ ok: false, badSeq: 3 });
  });
});

describe("hashing a log in bulk", () => {
  it("gives the chain hash and the transparency-log leaf of the documented vector from the same bytes", () => {
    const e = { ...VECTOR.entry, commitment: VECTOR.commitment, choices: VECTOR.choices, salt: VECTOR.salt };
    expect(chainAndLeafHash(2, VECTOR.genesis, e)).toEqual({ hash: VECTOR.hash1, leaf: Buffer.from(VECTOR.merkleLeaf, "hex") });
  });

  it("hashes each entry afresh, whatever the length of the one before, and a malformed previous hash as Buffer.from reads it", () => {
    const long = { electionId: 1, seq: 2, trackingCode: "X".repeat(3000), commitment: "c".repeat(64) };
    const short = { electionId: 1, seq: 3, trackingCode: "Y", commitment: "d".repeat(64) };
    const slow = (prev: string, e: LogEntryContent) => createHash("sha256").update(Buffer.from(prev, "hex")).update(entryBytes(2, e)).digest("hex");
    for (const [prev, e] of [["ab".repeat(32), long], ["cd".repeat(32), short], ["not hex", short], ["ab".repeat(40), short]] as const) {
      expect(chainHash(2, prev, e)).toBe(slow(prev, e));
      expect(chainAndLeafHash(2, prev, e).hash).toBe(slow(prev, e));
      expect(chainAndLeafHash(2, prev, e).leaf).toEqual(createHash("sha256").update(Buffer.of(0)).update(entryBytes(2, e)).digest());
    }
    expect(ballotCommitment(VECTOR.salt, [12, 3, 100000])).toBe(
      createHash("sha256").update("voting-ballot-commitment-v2\n").update(Buffer.from(VECTOR.salt, "hex")).update("12,3,100000\n").digest("hex"),
    );
  });

  it("writes every field byte by byte exactly as the entry's text: digits at every length, non-ASCII codes, numbers that are not plain counts", () => {
    const slow = (format: LogFormat, prev: string, e: LogEntryContent) => createHash("sha256").update(Buffer.from(prev, "hex")).update(entryBytes(format, e)).digest("hex");
    const opened = (salt: string, choices: readonly number[]) =>
      createHash("sha256").update("voting-ballot-commitment-v2\n").update(Buffer.from(salt, "hex")).update(`${choices.join(",")}\n`).digest("hex");
    const numbers = [0, 1, 9, 10, 99, 100, 65535, 999_999, 1_000_000, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 1e21, 1.5, -3, -0, Number.NaN];
    const codes = ["T", "", "0123456789ABCDEFGHJKMNPQRS", "Ünï", "a\u{1F5F3}b", "\uD800x", "Z".repeat(5000)];
    for (const format of [1, 2] as const) {
      for (const n of numbers) {
        for (const trackingCode of codes) {
          const choices = [n, 2, 10];
          const e: LogEntryContent = { electionId: n, seq: n, trackingCode, commitment: format === 2 ? `c${trackingCode}` : "", choices };
          expect(chainHash(format, VECTOR.genesis, e)).toBe(slow(format, VECTOR.genesis, e));
          expect(chainAndLeafHash(format, VECTOR.genesis, e).leaf).toEqual(createHash("sha256").update(Buffer.of(0)).update(entryBytes(format, e)).digest());
          expect(ballotCommitment(VECTOR.salt, choices)).toBe(opened(VECTOR.salt, choices));
        }
      }
    }
    expect(ballotCommitment(VECTOR.salt, [])).toBe(opened(VECTOR.salt, []));
    expect(ballotCommitment(VECTOR.salt, Array.from({ length: 500 }, (_, i) => 2 ** 53 - 1 - i))).toBe(opened(VECTOR.salt, Array.from({ length: 500 }, (_, i) => 2 ** 53 - 1 - i)));
  });
});

describe("ballot log format 1 (elections created before format 2)", () => {
  it("encodes an entry as five LF-terminated lines with the choices", () => {
    expect(entryBytes(1, { electionId: 7, seq: 3, trackingCode: "ABC", commitment: "", choices: [4, 2] }).toString()).toBe("voting-ballot-log-v1\n7\n3\nABC\n4,2\n");
  });

  it("hashes the previous hash's raw bytes followed by the entry (an independent vector)", () => {
    // python3: hashlib.sha256(bytes(32) + b"voting-ballot-log-v1\n1\n1\nT\n5\n").hexdigest()
    expect(chainHash(1, "00".repeat(32), { electionId: 1, seq: 1, trackingCode: "T", commitment: "", choices: [5] })).toBe(
      "e6cced0bfc750fef541dfcccd93bc0ca258048c6a97f3fa05f0625bc226d712c",
    );
  });

  it("genesis depends on the format and the definition, not on candidate order", () => {
    const a = genesisHash(1, { ...definition, candidates: [{ id: 1, name: "A" }, { id: 2, name: "B" }] });
    const b = genesisHash(1, { ...definition, candidates: [{ id: 2, name: "B" }, { id: 1, name: "A" }] });
    expect(a).toBe(b);
    expect(genesisHash(1, { ...definition, title: "Other" })).not.toBe(genesisHash(1, definition));
    expect(genesisHash(2, definition)).not.toBe(genesisHash(1, definition));
  });

  it("accepts an intact chain and reports its head", () => {
    const entries = chain(1, 10);
    expect(checkChain(1, { seq: 0, hash: genesisHash(1, definition) }, entries)).toEqual({ ok: true, headSeq: 10, headHash: entries[9].hash, sealed: 0 });
  });

  it("cannot check an entry whose ballot is withheld", () => {
    const entries = chain(1, 3);
    entries[1] = { ...entries[1], choices: undefined };
    expect(checkChain(1, { seq: 0, hash: genesisHash(1, definition) }, entries)).toMatchObject({ ok: false, badSeq: 2 });
  });

  it("names the first bad seq when an entry is altered, removed, inserted or reordered", () => {
    const start = { seq: 0, hash: genesisHash(1, definition) };
    const altered = chain(1, 10);
    altered[4] = { ...altered[4], choices: [9] };
    expect(checkChain(1, start, altered)).toMatchObject({ ok: false, badSeq: 5 });

    const removed = chain(1, 10);
    removed.splice(6, 1);
    expect(checkChain(1, start, removed)).toMatchObject({ ok: false, badSeq: 7 });

    const reordered = chain(1, 10);
    [reordered[2], reordered[3]] = [{ ...reordered[3], seq: 3 }, { ...reordered[2], seq: 4 }];
    expect(checkChain(1, start, reordered)).toMatchObject({ ok: false, badSeq: 3 });

    const inserted = chain(1, 10);
    inserted.splice(1, 0, { ...inserted[1] });
    expect(checkChain(1, start, inserted)).toMatchObject({ ok: false, badSeq: 3 });
  });
});
