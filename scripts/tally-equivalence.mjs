#!/usr/bin/env node
// `npm run tally:equivalence`: this build's tabulate() against another build's, result for
// result (JSON), over every method, STV rule, overvote rule, batch option, seat count and seed,
// for every ballot file in TALLY_DATA (default election-core/test-data) read both ways (streamed into
// a multiset and parsed into ballot groups), and for seeded synthetic elections with
// overvotes, blanks, repeats, unlisted and renumbered candidates. Speed work on the counting
// methods must keep every result identical; this is how to show it.
//   TALLY_BASE=<other checkout>/election-core/dist node scripts/tally-equivalence.mjs
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { mulberry32 } from "./bench/seeded-random.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
if (!process.env.TALLY_BASE) {
  console.error("set TALLY_BASE to the other build's election-core/dist");
  process.exit(2);
}
const mine = await import(pathToFileURL(join(root, "election-core/dist/index.js")).href);
const base = await import(pathToFileURL(join(resolve(process.env.TALLY_BASE), "index.js")).href);
const DATA = process.env.TALLY_DATA ?? join(root, "election-core/test-data");


/** Bloc voters with noise, as the benches make them, plus the awkward cases. */
function synthetic(seed, ballots, n, { ids = (c) => c, unlisted = false } = {}) {
  const next = mulberry32(seed);
  const groups = [];
  for (let b = 0; b < ballots; b++) {
    const bloc = Math.floor(next() * 4);
    const w = Array.from({ length: n }, (_, c) => next() + (c % 4 === bloc ? 1.5 : 0) - c * 0.05);
    const order = Array.from({ length: n }, (_, c) => c + 1).sort((a, b) => w[b - 1] - w[a - 1]);
    const cut = next() < 0.3 ? Math.floor(next() * n) : n;
    const ranks = order.slice(0, cut).map((c) => [ids(c)]);
    const r = next();
    if (r < 0.08 && ranks.length > 1) {
      const k = Math.floor(next() * (ranks.length - 1));
      ranks.splice(k, 2, [...ranks[k], ...ranks[k + 1]]); // an overvote
    } else if (r < 0.1 && ranks.length > 0) ranks.push([...ranks[0]]); // a repeat
    else if (r < 0.12 && unlisted) ranks.splice(Math.floor(next() * (ranks.length + 1)), 0, [999]);
    else if (r < 0.13) ranks.splice(Math.floor(next() * (ranks.length + 1)), 0, []); // an empty rank
    groups.push({ ranks, count: 1 + Math.floor(next() * 3) });
  }
  return groups;
}

const toMultiset = (lib, groups) => {
  const ms = new lib.RankingMultiset();
  for (const g of groups) ms.add(g.ranks, g.count);
  return ms;
};
const named = (ids) => ids.map((id) => ({ id, name: `Candidate ${id}` }));

/** Each dataset gives, per build, what tabulate() takes: candidates and ballots. */
const datasets = [];
for (const file of readdirSync(DATA).filter((f) => /\.(blt|soc|soi|toc|toi)$/.test(f)).sort()) {
  const path = join(DATA, file);
  datasets.push({
    name: `${file} (groups)`,
    make: async (lib) => {
      const f = await lib.readBallotFile(path);
      return { candidates: f.candidates.filter((c) => !f.withdrawn.includes(c.id)), ballots: f.ballots, seats: f.seats };
    },
  });
  if (file.endsWith(".blt"))
    datasets.push({
      name: `${file} (streamed multiset)`,
      make: async (lib) => {
        const f = await lib.readBlt(path);
        const ballots = f.withdrawn.length > 0 ? f.ballots.without(f.withdrawn) : f.ballots;
        return { candidates: f.candidates.filter((c) => !f.withdrawn.includes(c.id)), ballots, seats: f.seats };
      },
    });
}
const ten = Array.from({ length: 10 }, (_, c) => c + 1);
datasets.push(
  { name: "synthetic 5,000 ballots, 10 candidates (multiset)", make: (lib) => ({ candidates: named(ten), ballots: toMultiset(lib, synthetic(1, 5000, 10)) }) },
  { name: "synthetic 5,000 ballots, 10 candidates (groups)", make: () => ({ candidates: named(ten), ballots: synthetic(1, 5000, 10) }) },
  { name: "synthetic, candidates listed in another order, one left out (multiset)", make: (lib) => ({ candidates: named([3, 1, 2, 5, 4, 7, 6, 9, 8]), ballots: toMultiset(lib, synthetic(2, 3000, 10)) }) },
  { name: "synthetic, ids 101..107 and an unlisted id (groups)", make: () => ({ candidates: named(ten.slice(0, 7).map((c) => c + 100)), ballots: synthetic(3, 3000, 7, { ids: (c) => c + 100, unlisted: true }) }) },
  {
    name: "synthetic, weights in the millions (over 2^53 / 10^9 ballots: Meek sums in BigInt) (multiset)",
    make: (lib) => ({ candidates: named(ten.slice(0, 6)), ballots: toMultiset(lib, synthetic(5, 300, 6).map((g) => ({ ranks: g.ranks, count: g.count * 1_000_003 }))) }),
  },
  { name: "synthetic 14 candidates (schulze by ranks) (multiset)", make: (lib) => ({ candidates: named(Array.from({ length: 14 }, (_, c) => c + 1)), ballots: toMultiset(lib, synthetic(4, 2000, 14)) }) },
);
// Many small elections: ties and lots.
for (let k = 0; k < 40; k++) {
  const n = 2 + (k % 5);
  const ids = ten.slice(0, n);
  datasets.push({ name: `small ${k} (${n} candidates)`, make: (lib) => ({ candidates: named(ids), ballots: k % 2 ? toMultiset(lib, synthetic(100 + k, 4 + k, n, { unlisted: true })) : synthetic(100 + k, 4 + k, n, { unlisted: true }) }) });
}

const RULES = ["exhaust", "skip", "exhaust-if-continuing"];
function configurations(seatsHint) {
  const out = [];
  const seatsList = [...new Set([1, 2, 3, seatsHint ?? 1])];
  for (const tieBreakSeed of ["", "c0ffee"]) {
    for (const seats of seatsList) for (const method of ["plurality", "approval", "schulze"]) out.push({ method, seats, tieBreakSeed });
    for (const overvote of RULES)
      for (const batchElimination of [false, true]) {
        out.push({ method: "irv", overvote, batchElimination, tieBreakSeed });
        for (const stvVariant of ["scottish", "wigm", "meek"]) for (const seats of seatsList) out.push({ method: "stv", stvVariant, seats, overvote, batchElimination, tieBreakSeed });
      }
  }
  return out;
}

const outcome = (fn) => {
  try {
    return JSON.stringify(fn());
  } catch (err) {
    return `throws ${err?.name}: ${err?.message}`;
  }
};
let compared = 0;
let differences = 0;
// The parsed multisets themselves: the same groups in the same order.
for (const file of readdirSync(DATA).filter((f) => f.endsWith(".blt"))) {
  const [left, right] = await Promise.all([mine, base].map(async (lib) => JSON.stringify((await lib.readBlt(join(DATA, file))).ballots.groups())));
  compared++;
  if (left !== right) {
    differences++;
    console.log(`DIFFERENT: groups() of ${file}`);
  }
}
for (const d of datasets) {
  const a = await d.make(mine);
  const b = await d.make(base);
  for (const options of configurations(a.seats)) {
    const left = outcome(() => mine.tabulate(a.candidates, a.ballots, options));
    const right = outcome(() => base.tabulate(b.candidates, b.ballots, options));
    compared++;
    if (left !== right) {
      differences++;
      if (differences <= 5) console.log(`DIFFERENT: ${d.name} ${JSON.stringify(options)}\n  this:  ${left.slice(0, 400)}\n  other: ${right.slice(0, 400)}`);
    }
  }
}
console.log(`${compared} configurations over ${datasets.length} data sets compared with ${process.env.TALLY_BASE}: ${differences} different`);
process.exit(differences === 0 ? 0 : 1);
