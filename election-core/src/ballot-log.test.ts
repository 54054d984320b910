import { describe, expect, it } from "vitest";
import { canonicalEntryBytes, chainHash, checkChain, genesisHash, type LogEntryContent } from "./ballot-log.js";

const definition = { id: 1, title: "General election", method: "plurality", seats: 1, candidateSource: "registered_users", candidates: [] };

function chain(n: number) {
  let hash = genesisHash(definition);
  const entries = [];
  for (let seq = 1; seq <= n; seq++) {
    const e: LogEntryContent = { electionId: 1, seq, trackingCode: `CODE${seq}`, choices: [seq % 3 + 1] };
    hash = chainHash(hash, e);
    entries.push({ ...e, hash });
  }
  return entries;
}

describe("ballot log hash chain", () => {
  it("encodes an entry as five LF-terminated lines", () => {
    expect(canonicalEntryBytes({ electionId: 7, seq: 3, trackingCode: "ABC", choices: [4, 2] }).toString()).toBe("voting-ballot-log-v1\n7\n3\nABC\n4,2\n");
  });

  it("hashes the previous hash's raw bytes followed by the entry (an independent vector)", () => {
    // python3: hashlib.sha256(bytes(32) + b"voting-ballot-log-v1\n1\n1\nT\n5\n").hexdigest()
    expect(chainHash("00".repeat(32), { electionId: 1, seq: 1, trackingCode: "T", choices: [5] })).toBe(
      "e6cced0bfc750fef541dfcccd93bc0ca258048c6a97f3fa05f0625bc226d712c",
    );
  });

  it("genesis depends on the definition, not on candidate order", () => {
    const a = genesisHash({ ...definition, candidates: [{ id: 1, name: "A" }, { id: 2, name: "B" }] });
    const b = genesisHash({ ...definition, candidates: [{ id: 2, name: "B" }, { id: 1, name: "A" }] });
    expect(a).toBe(b);
    expect(genesisHash({ ...definition, title: "Other" })).not.toBe(genesisHash(definition));
  });

  it("accepts an intact chain and reports its head", () => {
    const entries = chain(10);
    expect(checkChain({ seq: 0, hash: genesisHash(definition) }, entries)).toEqual({ ok: true, headSeq: 10, headHash: entries[9].hash });
  });

  it("names the first bad seq when an entry is altered, removed, inserted or reordered", () => {
    const start = { seq: 0, hash: genesisHash(definition) };
    const altered = chain(10);
    altered[4] = { ...altered[4], choices: [9] };
    expect(checkChain(start, altered)).toMatchObject({ ok: false, badSeq: 5 });

    const removed = chain(10);
    removed.splice(6, 1);
    expect(checkChain(start, removed)).toMatchObject({ ok: false, badSeq: 7 });

    const reordered = chain(10);
    [reordered[2], reordered[3]] = [{ ...reordered[3], seq: 3 }, { ...reordered[2], seq: 4 }];
    expect(checkChain(start, reordered)).toMatchObject({ ok: false, badSeq: 3 });

    const inserted = chain(10);
    inserted.splice(1, 0, { ...inserted[1] });
    expect(checkChain(start, inserted)).toMatchObject({ ok: false, badSeq: 3 });
  });
});
