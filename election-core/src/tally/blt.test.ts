// The streaming BLT reader: whatever the chunking, the same multiset; weights honoured;
// bad input named by line.
import fc from "fast-check";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BltReader, parseBltBytes, readBlt, TallyFileError } from "./blt.js";
import { RankingMultiset } from "./multiset.js";

const bytes = (s: string) => new TextEncoder().encode(s);
const groupsOf = (ms: RankingMultiset) => ms.groups().sort((a, b) => JSON.stringify(a.ranks).localeCompare(JSON.stringify(b.ranks)));

describe("readBlt", () => {
  it("adds up the weights of identical rankings, however they are written", () => {
    const f = parseBltBytes(
      bytes(["3 1", "2 1 2 0", "(b7) 3 1 2 0 # the same ranking with a ballot id", "1  1\t2 0", "1 2=3 - 1 0", "1 3=2 1 0", "0 3 0", "4 0", "0", '"A" "B" "C" "T"'].join("\n")),
    );
    expect(f.ballots.total).toBe(12);
    expect(groupsOf(f.ballots)).toEqual([
      { ranks: [[1], [2]], count: 6 },
      { ranks: [[2, 3], [1]], count: 2 },
      { ranks: [], count: 4 },
    ]);
  });

  it("keeps withdrawn candidates' marks as written and lists them; without() passes them over", () => {
    const f = parseBltBytes(bytes(["3 1", "-2", "1 2 1 0", "1 1 0", "0", '"A" "B" "C"'].join("\n")));
    expect(f.withdrawn).toEqual([2]);
    expect(groupsOf(f.ballots)).toEqual([
      { ranks: [[1]], count: 1 },
      { ranks: [[2], [1]], count: 1 },
    ]);
    expect(groupsOf(f.ballots.without(f.withdrawn))).toEqual([{ ranks: [[1]], count: 2 }]);
  });

  it("reads names with # and spaces in quotes, a title over lines, comments and CR, LF or CRLF line ends", () => {
    for (const eol of ["\n", "\r\n", "\r"]) {
      const f = parseBltBytes(bytes(["\uFEFF# head", "2 1", "1 1 0", "0", '"Ann # Lee" # a comment', '"Bo"', '"Title"'].join(eol)));
      expect(f.candidates).toEqual([
        { id: 1, name: "Ann # Lee" },
        { id: 2, name: "Bo" },
      ]);
      expect(f.title).toBe("Title");
    }
  });

  it("gives the same file whatever the chunks the bytes arrive in", () => {
    const line = fc.tuple(
      fc.integer({ min: 0, max: 9 }),
      fc.array(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 2 }), { maxLength: 5 }),
      fc.constantFrom(" ", "  ", "\t"),
      fc.boolean(),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 30 }), fc.constantFrom("\n", "\r\n", "\r"), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1 }), (lines, eol, cuts) => {
        const body = lines.map(([w, ranks, sp, comment]) => [String(w), ...ranks.map((r) => r.join("=")), "0"].join(sp) + (comment ? " # c" : ""));
        const text = bytes(["4 2", ...body, "0", '"A" "B"', '"C" "D" "T"'].join(eol));
        const whole = parseBltBytes(text);
        const reader = new BltReader();
        for (let at = 0, k = 0; at < text.length; k++) {
          const next = Math.min(text.length, at + cuts[k % cuts.length]);
          reader.push(text.subarray(at, next));
          at = next;
        }
        const chunked = reader.end();
        expect(groupsOf(chunked.ballots)).toEqual(groupsOf(whole.ballots));
        expect(chunked.ballots.total).toBe(lines.reduce((s, [w]) => s + w, 0));
        expect(chunked.title).toBe("T");
      }),
    );
  });

  it("streams a file from disk", async () => {
    const dir = mkdtempSync(join(tmpdir(), "blt-"));
    try {
      const lines = Array.from({ length: 5000 }, (_, i) => `1 ${(i % 3) + 1} ${((i + 1) % 3) + 1} 0`);
      writeFileSync(join(dir, "a.blt"), ["3 1", ...lines, "0", '"A" "B" "C"', '"T"'].join("\n"));
      const f = await readBlt(join(dir, "a.blt"));
      expect(f.ballots.total).toBe(5000);
      expect(f.ballots.size).toBe(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("names the line at fault in malformed files", () => {
    const cases: [string[], string][] = [
      [[], 'line 1: the file is empty; expected a first line "candidates seats"'],
      [["3 x"], 'line 1: expected "candidates seats", got "3 x"'],
      [["0 1"], "line 1: the number of candidates must be at least 1"],
      [["3 1", "1 1 2"], "line 2: expected 0 at the end of the ballot"],
      [["3 1", "1 4 0"], 'line 2: expected a candidate number 1 to 3, got "4"'],
      [["3 1", "1 1 00 0"], 'line 2: expected a candidate number 1 to 3, got "00"'],
      [["3 1", "99999999999999999999 1 0"], "line 2: ballot weight 99999999999999999999 is too large"],
      [["3 1", "1 1 0 2"], 'line 2: unexpected "2" after the closing 0'],
      [["3 1", "1 1x 0"], 'line 2: expected a candidate number 1 to 3, got "1x"'],
      [["3 1", "", "1 1 0"], 'line 3: expected a line "0" after the ballots'],
      [["3 1", "-x"], 'line 2: expected a withdrawn candidate as a negative number, got "-x"'],
      [["2 1", "1 1 0", "-2", "0"], "line 3: withdrawn candidates (negative numbers) must come before the ballots"],
      [["2 1", "0", '"A" "B" "T" "extra"'], 'line 3: unexpected "extra" after the title'],
      [["2 1", "0", '"A'], "line 3: a quoted string is not closed on its line"],
    ];
    for (const [lines, message] of cases) {
      expect(() => parseBltBytes(bytes(lines.join("\n"))), message).toThrow(TallyFileError);
      expect(() => parseBltBytes(bytes(lines.join("\n"))), message).toThrow(message);
    }
  });
});
