// Real elections with official results (sources in test-data/README.md): a tabulator that is
// right reproduces them exactly under the rules named.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseBallotFile } from "./formats.js";
import { tabulate } from "./tabulate.js";
import type { Round, TallyResult } from "./types.js";

function load(name: string) {
  const text = readFileSync(new URL(`../../test-data/${name}`, import.meta.url), "utf8");
  return parseBallotFile(text, name);
}

/** Round counts as { name: votes } for readable assertions. */
function countsByName(file: ReturnType<typeof load>, round: Round): Record<string, string> {
  const name = new Map(file.candidates.map((c) => [c.id, c.name]));
  return Object.fromEntries(round.counts.map((c) => [name.get(c.candidateId), c.votes]));
}

const namesOf = (file: ReturnType<typeof load>, ids: number[]) => ids.map((id) => file.candidates.find((c) => c.id === id)?.name);

describe("Burlington 2009 mayor (IRV, official report)", () => {
  const file = load("burlington-2009-mayor.toi");
  const KISS = 1;
  const MONTROLL = 2;
  const SIMPSON = 3;
  const SMITH = 4;
  const WRIGHT = 5;
  const WRITE_IN = 6;
  // The official rule exhausts a ballot whose next rank holds two or more *continuing*
  // candidates and counts it for the one continuing candidate otherwise: "exhaust-if-continuing".
  const irv = tabulate(file.candidates, file.ballots, { method: "irv", batchElimination: true, overvote: "exhaust-if-continuing" });

  it("reads 8,980 ballots over 6 alternatives", () => {
    expect(file.ballots.reduce((s, b) => s + b.count, 0)).toBe(8980);
    expect(file.candidates.map((c) => c.name)).toEqual(["Bob Kiss", "Andy Montroll", "James Simpson", "Dan Smith", "Kurt Wright", "Write-in"]);
    expect(irv.ballots).toBe(8980);
    expect(irv.validBallots).toBe(8980);
  });

  it("reproduces every count of every round, exhausted ballots included", () => {
    expect(irv.rounds).toHaveLength(3);
    expect(countsByName(file, irv.rounds[0])).toEqual({
      "Kurt Wright": "2951",
      "Bob Kiss": "2585",
      "Andy Montroll": "2063",
      "Dan Smith": "1306",
      "Write-in": "36",
      "James Simpson": "35",
    });
    expect(countsByName(file, irv.rounds[1])).toEqual({ "Kurt Wright": "3294", "Bob Kiss": "2981", "Andy Montroll": "2554" });
    expect(countsByName(file, irv.rounds[2])).toEqual({ "Kurt Wright": "4061", "Bob Kiss": "4313" });
    expect(irv.rounds.map((r) => r.exhausted)).toEqual(["4", "151", "606"]);
  });

  it("eliminates Smith, Write-in and Simpson together, then Montroll, and elects Kiss", () => {
    expect([...irv.rounds[0].eliminated].sort()).toEqual([SIMPSON, SMITH, WRITE_IN]);
    expect(irv.rounds[1].eliminated).toEqual([MONTROLL]);
    expect(irv.rounds[2].elected).toEqual([KISS]);
    expect(irv.winners).toEqual([KISS]);
    expect(irv.ties).toEqual([]);
    expect(irv.candidates.slice(0, 3).map((c) => [c.id, c.position])).toEqual([
      [KISS, 1],
      [WRIGHT, 2],
      [MONTROLL, 3],
    ]);
  });

  it("records where each eliminated candidate's ballots went", () => {
    const montroll = irv.rounds[1].transfers[0];
    expect(montroll).toEqual({
      from: MONTROLL,
      kind: "elimination",
      to: [
        { candidateId: KISS, votes: "1332" },
        { candidateId: WRIGHT, votes: "767" },
      ],
      exhausted: "455",
    });
  });

  it('under "exhaust", the one ballot 2,4,{3,5},1 exhausts at its overvote instead of reaching Wright', () => {
    const strict = tabulate(file.candidates, file.ballots, { method: "irv", batchElimination: true, overvote: "exhaust" });
    expect(countsByName(file, strict.rounds[2])).toEqual({ "Kurt Wright": "4060", "Bob Kiss": "4313" });
    expect(strict.rounds.map((r) => r.exhausted)).toEqual(["4", "151", "607"]);
    expect(strict.winners).toEqual([KISS]);
  });

  it("Schulze elects Montroll, the Condorcet winner, with the published pairwise counts", () => {
    const s = tabulate(file.candidates, file.ballots, { method: "schulze" });
    const ids = s.pairwise!.candidates;
    const d = (a: number, b: number) => s.pairwise!.matrix[ids.indexOf(a)][ids.indexOf(b)];
    expect(d(MONTROLL, KISS)).toBe(4067);
    expect(d(KISS, MONTROLL)).toBe(3477);
    expect(d(MONTROLL, WRIGHT)).toBe(4597);
    expect(d(WRIGHT, MONTROLL)).toBe(3668);
    expect(s.winners).toEqual([MONTROLL]);
    expect(s.ranking![0]).toEqual([MONTROLL]);
  });
});

describe("Glasgow 2007, Linn ward (Scottish STV, 4 seats)", () => {
  const file = load("Linn-2007.blt");
  const r = tabulate(file.candidates, file.ballots, { method: "stv", seats: file.seats, stvVariant: "scottish" });
  const id = (name: string) => file.candidates.find((c) => c.name === name)!.id;

  it("reads 9,567 ballots, 11 candidates and 4 seats", () => {
    expect(file.seats).toBe(4);
    expect(file.title).toBe("LINN");
    expect(r.validBallots).toBe(9567);
  });

  it("has quota 1914 and the official first preferences", () => {
    expect(r.rounds[0].quota).toBe("1914.00000");
    expect(countsByName(file, r.rounds[0])).toEqual({
      "David Ritchie": "2043.00000",
      "Sadie Docherty": "1782.00000",
      "John McKenzie": "1381.00000",
      "Margot Clark": "1284.00000",
      "Alan Stewart": "955.00000",
      "Esme H Clark": "898.00000",
      "Frank Young": "395.00000",
      "Chloe Helen Stewart": "296.00000",
      "Chris Lang": "219.00000",
      "Harry McArthur": "165.00000",
      "Gordon Thomson": "149.00000",
    });
  });

  it("elects Ritchie first and transfers his surplus of 129.00000", () => {
    expect(r.rounds[0].elected).toEqual([id("David Ritchie")]);
    const t = r.rounds[0].transfers[0];
    expect(t.kind).toBe("surplus");
    expect(t.from).toBe(id("David Ritchie"));
    // Ritchie's total after the transfer is the quota: his surplus was 2043 - 1914 = 129.
    expect(countsByName(file, r.rounds[1])["David Ritchie"]).toBe("1914.00000");
  });

  it("excludes in the official order, electing Docherty with a surplus of 33.35496 on the way", () => {
    const events = r.rounds.flatMap((round) => [
      ...round.elected.map((c) => `elect ${namesOf(file, [c])[0]}`),
      ...round.eliminated.map((c) => `exclude ${namesOf(file, [c])[0]}`),
    ]);
    expect(events).toEqual([
      "elect David Ritchie",
      "exclude Gordon Thomson",
      "exclude Harry McArthur",
      "exclude Chris Lang",
      "exclude Chloe Helen Stewart",
      "exclude Frank Young",
      "exclude Esme H Clark",
      "elect Sadie Docherty",
      "exclude Alan Stewart",
      "elect John McKenzie",
      "elect Margot Clark",
    ]);
    const docherty = r.rounds.find((round) => round.elected.includes(id("Sadie Docherty")))!;
    expect(countsByName(file, docherty)["Sadie Docherty"]).toBe("1947.35496"); // 1914 + 33.35496
    expect(docherty.transfers[0]).toMatchObject({ kind: "surplus", from: id("Sadie Docherty") });
  });

  it("ends with the official final values and non-transferable total", () => {
    const last = r.rounds.at(-1)!;
    expect(countsByName(file, last)).toEqual({
      "Margot Clark": "2008.75096",
      "Sadie Docherty": "1914.00000",
      "John McKenzie": "2174.90506",
      "David Ritchie": "1914.00000",
    });
    expect(last.exhausted).toBe("1555.32260");
    expect(namesOf(file, r.winners)).toEqual(["David Ritchie", "Sadie Docherty", "John McKenzie", "Margot Clark"]);
    expect(r.notes).toContain("Value lost to rounding (in no count and not non-transferable): 0.02138.");
  });
});

describe("GPUS steering committee 2005 (SC.blt): STV rules disagree", () => {
  const file = load("SC.blt");
  const run = (stvVariant: "scottish" | "wigm" | "meek"): TallyResult => tabulate(file.candidates, file.ballots, { method: "stv", seats: file.seats, stvVariant });
  const sorted = (r: TallyResult) => namesOf(file, r.winners).sort();

  it("Scottish STV elects Sevigny, LaMarche, Rotzler and Kramer", () => {
    expect(sorted(run("scottish"))).toEqual(["Pat LaMarche", "Rebecca Rotzler", "Steve Kramer", "Tom Sevigny"]);
  });

  it("WIGM elects Sevigny, LaMarche, Rotzler and Kramer", () => {
    const r = run("wigm");
    expect(sorted(r)).toEqual(["Pat LaMarche", "Rebecca Rotzler", "Steve Kramer", "Tom Sevigny"]);
    expect(r.rounds[0].quota).toBe("18.800000000");
    // Rotzler's surplus (33 - 18.8) goes first, as in droop's reference count.
    expect(countsByName(file, r.rounds[1])["Kristen Olsen"]).toBe("12.618181818");
  });

  it("Meek STV elects LaMarche, Rotzler, Olsen and Kramer", () => {
    expect(sorted(run("meek"))).toEqual(["Kristen Olsen", "Pat LaMarche", "Rebecca Rotzler", "Steve Kramer"]);
  });

  it("the candidates with no votes tie and are excluded by lot, each tie reported", () => {
    const r = run("scottish");
    expect(r.ties.length).toBeGreaterThan(0);
    for (const t of r.ties) {
      expect(t.rule).toBe("lot");
      expect(t.decides).toBe("elimination");
      expect(t.among).toContain(t.chosen);
    }
  });
});

describe("42.blt: a tie", () => {
  const file = load("42.blt");
  const [CASTOR, POLLUX, HELEN] = [1, 2, 3];

  it("with the exact Droop quota (WIGM), Pollux and Helen tie at 2; the earlier round breaks it", () => {
    const r = tabulate(file.candidates, file.ballots, { method: "stv", seats: 2, stvVariant: "wigm" });
    expect(r.rounds[1].counts).toEqual([
      { candidateId: CASTOR, votes: "2.000000000" },
      { candidateId: POLLUX, votes: "2.000000000" },
      { candidateId: HELEN, votes: "2.000000000" },
    ]);
    expect(r.ties).toEqual([
      expect.objectContaining({ round: 2, among: [POLLUX, HELEN], chosen: POLLUX, decides: "elimination", rule: "previous-rounds" }),
    ]);
    expect(r.ties[0].detail).toContain("round 1 had Pollux (2) 0.000000000, Helen (3) 2.000000000");
    expect(r.winners).toEqual([CASTOR, HELEN]);
  });

  it("every STV variant elects Castor and Helen", () => {
    for (const stvVariant of ["scottish", "wigm", "meek"] as const) {
      expect(tabulate(file.candidates, file.ballots, { method: "stv", seats: 2, stvVariant }).winners).toEqual([CASTOR, HELEN]);
    }
  });
});
