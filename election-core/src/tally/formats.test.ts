import { describe, expect, it } from "vitest";
import { parseBallotFile, parseBlt, parsePrefLib, TallyFileError } from "./formats.js";

const blt = (lines: string[]) => lines.join("\n");

describe("BLT", () => {
  it("reads candidates, seats, withdrawn, weighted ballots, equal ranks, names and title", () => {
    const f = parseBlt(
      blt([
        "# an example",
        "4 2",
        "-4",
        "3 1 2 0",
        "1 2=3 1 0 # an overvote at the first rank",
        "2 3 0",
        "0",
        '"Alice" "Bob"',
        '"Carol # not a comment"',
        '"Dan"',
        '"Example election"',
      ]),
    );
    expect(f).toEqual({
      title: "Example election",
      seats: 2,
      candidates: [
        { id: 1, name: "Alice" },
        { id: 2, name: "Bob" },
        { id: 3, name: "Carol # not a comment" },
        { id: 4, name: "Dan" },
      ],
      ballots: [
        { ranks: [[1], [2]], count: 3 },
        { ranks: [[2, 3], [1]], count: 1 },
        { ranks: [[3]], count: 2 },
      ],
      withdrawn: [4],
    });
  });

  it("accepts Windows line ends and a missing title", () => {
    expect(parseBlt('2 1\r\n1 1 0\r\n0\r\n"A"\r\n"B"\r\n').title).toBe("");
  });

  it("names the line of a bad ballot weight", () => {
    const text = blt(["3 1", "1 1 0", "x 2 0", "0", '"A" "B" "C"']);
    expect(() => parseBlt(text)).toThrow(TallyFileError);
    expect(() => parseBlt(text)).toThrow('line 3: expected a ballot weight, got "x"');
  });

  it("names the line of other mistakes", () => {
    const cases: [string[], string][] = [
      [["3"], 'line 1: expected "candidates seats", got "3"'],
      [["3 1", "", "1 1 2"], "line 3: expected 0 at the end of the ballot"],
      [["3 1", "1 4 0"], 'line 2: expected a candidate number 1 to 3, got "4"'],
      [["3 1", "1 1 0 2"], 'line 2: unexpected "2" after the closing 0'],
      [["3 1", "1 1 0"], 'line 2: expected a line "0" after the ballots'],
      [["2 1", "0", '"A"'], "line 3: expected 2 quoted candidate names, found 1"],
      [["2 1", "0", '"A" B'], 'line 3: expected a quoted candidate name, got "B"'],
      [["2 1", "0", '"A" "B" "T" "extra"'], 'line 3: unexpected "extra" after the title'],
      [["2 1", "1 1 0", "-2", "0"], "line 3: withdrawn candidates (negative numbers) must come before the ballots"],
    ];
    for (const [lines, message] of cases) expect(() => parseBlt(blt(lines)), message).toThrow(message);
  });
});

describe("PrefLib", () => {
  const toi = blt([
    "# FILE NAME: example.toi",
    "# TITLE: An example",
    "# NUMBER ALTERNATIVES: 3",
    "# ALTERNATIVE NAME 1: Ann",
    "# ALTERNATIVE NAME 2: Ben",
    "# ALTERNATIVE NAME 3: Cy",
    "# NUMBER VOTERS: 6",
    "3: 1,2,3",
    "2: {1,3},2",
    "1: 2",
  ]);

  it("reads the header and rankings with ties in braces", () => {
    expect(parsePrefLib(toi, "toi")).toEqual({
      title: "An example",
      candidates: [
        { id: 1, name: "Ann" },
        { id: 2, name: "Ben" },
        { id: 3, name: "Cy" },
      ],
      ballots: [
        { ranks: [[1], [2], [3]], count: 3 },
        { ranks: [[1, 3], [2]], count: 2 },
        { ranks: [[2]], count: 1 },
      ],
      withdrawn: [],
    });
  });

  it("enforces what each kind allows, naming the line", () => {
    expect(() => parsePrefLib(toi, "soi")).toThrow("line 9: a .soi file cannot rank alternatives equally (braces)");
    expect(() => parsePrefLib(toi, "toc")).toThrow("line 10: a .toc ballot must rank all 3 alternatives, this one ranks 1");
    expect(() => parsePrefLib(toi.replace("VOTERS: 6", "VOTERS: 7"), "toi")).toThrow("line 7: NUMBER VOTERS is 7 but the ballots add up to 6");
    expect(() => parsePrefLib(toi.replace("1: 2", "1: 2,4"), "toi")).toThrow("line 10: alternative 4 is beyond NUMBER ALTERNATIVES 3");
    expect(() => parsePrefLib(toi.replace("1: 2", "one: 2"), "toi")).toThrow('line 10: expected a ballot count, got "one"');
    expect(() => parsePrefLib(toi.replace("1: 2", "1: 2,2"), "toi")).toThrow("line 10: alternative 2 appears twice");
    expect(() => parsePrefLib(toi.replace("1: 2", "1: {2,"), "toi")).toThrow("line 10: a { is not closed");
    expect(() => parsePrefLib(toi.replace("1: 2", "1 2"), "toi")).toThrow('line 10: expected "count: ranking", got "1 2"');
  });

  it("names alternatives that have no name line", () => {
    expect(parsePrefLib("1: 2,1", "soc").candidates).toEqual([
      { id: 1, name: "Alternative 1" },
      { id: 2, name: "Alternative 2" },
    ]);
  });
});

describe("parseBallotFile", () => {
  it("picks the parser by extension", () => {
    expect(parseBallotFile('1 1\n1 1 0\n0\n"A"\n"T"\n', "x.BLT").title).toBe("T");
    expect(parseBallotFile("2: 1", "votes.soi").ballots).toEqual([{ ranks: [[1]], count: 2 }]);
    expect(() => parseBallotFile("", "votes.csv")).toThrow(/unknown ballot file type/);
  });
});
