#!/usr/bin/env node
// `npm run bench:tabulate`: `voting tabulate` of a TABULATE_BALLOTS-ballot BLT file (default
// 1,000,000 full rankings of 10 candidates, a fixed seed) for every method, each a child
// process measured for wall time and peak RSS (/usr/bin/time -v); then 10M ballot positions
// counted by every method in process against one linear pass over the same data.
import { spawnSync } from "node:child_process";
import { createWriteStream, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createRequire } from "node:module";
import { once } from "node:events";
import { mulberry32 } from "./bench/seeded-random.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(import.meta.url);
if (process.env.TABULATE_SKIP_BUILD !== "1" && spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-b"], { cwd: root, stdio: "inherit" }).status !== 0) process.exit(1);

const N = Number(process.env.TABULATE_BALLOTS ?? 1_000_000);
const CANDIDATES = 10;
const REPEATS = Number(process.env.TABULATE_REPEATS ?? 3);
// TABULATE_CLI: another build's client/bin/voting.js (e.g. the code before a change) to time instead.
const CLI = process.env.TABULATE_CLI ?? join(root, "client/bin/voting.js");
const PARTS = (process.env.TABULATE_PARTS ?? "cli,ratio").split(",");
const METHODS = (process.env.TABULATE_METHODS ?? "plurality,approval,irv,stv,stv-wigm,stv-meek,schulze").split(",");
const core = await import("@voting/election-core");
const { prepareBallots } = await import("../election-core/dist/tally/ballots.js");
const { resolveOptions } = await import("../election-core/dist/tally/options.js");
const engines = {
  plurality: (await import("../election-core/dist/tally/plurality-approval.js")).tabulatePluralityApproval,
  irv: (await import("../election-core/dist/tally/irv.js")).tabulateIrv,
  stv: (await import("../election-core/dist/tally/stv.js")).tabulateStv,
  schulze: (await import("../election-core/dist/tally/schulze.js")).tabulateSchulze,
};
engines.approval = engines.plurality;

// Voters in blocs with noise (as in recount-bench): structured preferences, several rounds.
function* rankings(n, seed = 20261130) {
  const next = mulberry32(seed);
  const w = new Float64Array(CANDIDATES);
  const order = Array.from({ length: CANDIDATES }, (_, c) => c + 1);
  for (let i = 0; i < n; i++) {
    const bloc = Math.floor(next() * 4);
    for (let c = 0; c < CANDIDATES; c++) w[c] = next() + (c % 4 === bloc ? 1.5 : 0) + (c === bloc * 2 ? 0.8 : 0) - c * 0.05;
    yield order.slice().sort((a, b) => w[b - 1] - w[a - 1]);
  }
}
const methodArgs = (m) => (m === "stv-wigm" ? ["--method", "stv", "--stv", "wigm", "--seats", "3"] : m === "stv-meek" ? ["--method", "stv", "--stv", "meek", "--seats", "3"] : m === "stv" ? ["--method", "stv", "--seats", "3"] : ["--method", m, "--seats", "1"]);
const optionsOf = (m) => ({ method: m.startsWith("stv") ? "stv" : m, seats: m.startsWith("stv") ? 3 : 1, stvVariant: m === "stv-wigm" ? "wigm" : m === "stv-meek" ? "meek" : "scottish" });

if (PARTS.includes("cli")) await cliRuns();
if (!PARTS.includes("ratio")) process.exit(0);

// 3. 10M positions in process. Baselines, each reading every position once and summing: the
// raw 10M positions in one flat Int32Array; the multiset they reduce to (its rankings are
// kept packed, so this is also the pass over what the methods read). Then tabulate() per
// method on the multiset, and the method alone on the prepared arrays. Best of
// TABULATE_REPEATS, by wall time and by CPU time (the CPU figures hold under load).
// TABULATE_BASE: another build's election-core/dist (e.g. the code before a change), timed
// interleaved with this one on its own multiset of the same ballots.
const base = process.env.TABULATE_BASE ? await import(pathToFileURL(join(process.env.TABULATE_BASE, "index.js")).href) : undefined;
const ms = new core.RankingMultiset();
const baseMs = base && new base.RankingMultiset();
const flat = new Int32Array(1_000_000 * CANDIDATES);
let at = 0;
for (const r of rankings(1_000_000, 7)) {
  const ranks = r.map((c) => [c]);
  ms.add(ranks, 1);
  baseMs?.add(ranks, 1);
  flat.set(r, at);
  at += r.length;
}
const candidates = Array.from({ length: CANDIDATES }, (_, c) => ({ id: c + 1, name: `Candidate ${c + 1}` }));
/** Best wall and best CPU ms of each function, the functions taking turns. */
const best = (repeats, ...fns) => {
  const out = fns.map(() => ({ wall: Infinity, cpu: Infinity, v: undefined }));
  for (let k = 0; k < repeats; k++)
    fns.forEach((fn, i) => {
      const c = process.cpuUsage();
      const s = performance.now();
      out[i].v = fn();
      out[i].wall = Math.min(out[i].wall, performance.now() - s);
      const d = process.cpuUsage(c);
      out[i].cpu = Math.min(out[i].cpu, (d.user + d.system) / 1000);
    });
  return out;
};
const [passFlat] = best(REPEATS * 3, () => {
  let sum = 0;
  for (let i = 0; i < flat.length; i++) sum += flat[i];
  return sum;
});
const [passMultiset] = best(REPEATS * 3, () => {
  let sum = 0;
  const { rankings, marks, start, count } = ms.packed();
  for (let g = 0; g < rankings; g++) for (let i = start[g]; i < start[g + 1]; i++) sum += marks[i] * count[g];
  return sum;
});
const prep = prepareBallots(candidates, ms);
const f = (x) => x.toFixed(1);
console.log(`${ms.total} ballots, ${prep.marks.length} positions, ${ms.size} distinct rankings`);
console.log(`one linear pass (wall / CPU ms): over the ${flat.length} raw positions (flat Int32Array) ${f(passFlat.wall)} / ${f(passFlat.cpu)}; over the multiset ${f(passMultiset.wall)} / ${f(passMultiset.cpu)}`);
const ratios = [];
for (const m of METHODS) {
  const opts = optionsOf(m);
  const [whole, before] = best(REPEATS, () => core.tabulate(candidates, ms, opts), ...(base ? [() => base.tabulate(candidates, baseMs, opts)] : []));
  const resolved = resolveOptions(opts);
  const [alone] = best(REPEATS, () => engines[opts.method](prep, resolved));
  if (before && JSON.stringify(before.v) !== JSON.stringify(whole.v)) throw new Error(`${m}: the result differs from TABULATE_BASE's`);
  ratios.push({
    method: m,
    "tabulate ms (wall/CPU)": `${f(whole.wall)} / ${f(whole.cpu)}`,
    "/ raw pass (wall/CPU)": `${(whole.wall / passFlat.wall).toFixed(2)} / ${(whole.cpu / passFlat.cpu).toFixed(2)}`,
    ...(before && {
      "base ms (wall/CPU)": `${f(before.wall)} / ${f(before.cpu)}`,
      "base / raw pass": `${(before.wall / passFlat.wall).toFixed(2)} / ${(before.cpu / passFlat.cpu).toFixed(2)}`,
    }),
    "/ pass over multiset (CPU)": (whole.cpu / passMultiset.cpu).toFixed(2),
    "method alone ms (CPU)": f(alone.cpu),
    winners: whole.v.winners.join(" "),
  });
}
console.table(ratios);

/** 1 and 2: the file, then `voting tabulate` per method. */
async function cliRuns() {
  // 1. The file.
  const dir = mkdtempSync(join(tmpdir(), "voting-tabulate-"));
  const file = join(dir, "ballots.blt");
  let start = performance.now();
  const out = createWriteStream(file);
  out.write(`${CANDIDATES} 1\n`);
  let chunk = "";
  for (const r of rankings(N)) {
    chunk += `1 ${r.join(" ")} 0\n`;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, "drain");
      chunk = "";
    }
  }
  out.write(`${chunk}0\n`);
  for (let c = 0; c < CANDIDATES; c++) out.write(`"Candidate ${String.fromCharCode(65 + c)}"\n`);
  out.write('"Tabulate bench"\n');
  out.end();
  await once(out, "finish");
  console.log(`wrote ${N} ballots (${N * CANDIDATES} positions, ${(statSync(file).size / 1e6).toFixed(1)} MB) in ${((performance.now() - start) / 1000).toFixed(1)} s`);

  // 2. `voting tabulate` per method, as a user runs it: best of REPEATS for time, worst for memory.
  const time = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;
  if (!time) console.log("no /usr/bin/time: peak RSS not measured");
  const rows = [];
  for (const m of METHODS) {
    let best = Infinity;
    let cpu = Infinity;
    let rss = 0;
    for (let k = 0; k < REPEATS; k++) {
      const argv = [process.execPath, CLI, "tabulate", file, ...methodArgs(m)];
      start = performance.now();
      const run = time ? spawnSync(time, ["-v", ...argv], { encoding: "utf8", maxBuffer: 1 << 24 }) : spawnSync(argv[0], argv.slice(1), { encoding: "utf8", maxBuffer: 1 << 24 });
      const wall = (performance.now() - start) / 1000;
      if (run.status !== 0) throw new Error(`voting tabulate ${m} exited ${run.status}: ${run.stderr}`);
      best = Math.min(best, wall);
      const kb = /Maximum resident set size \(kbytes\): (\d+)/.exec(run.stderr ?? "")?.[1];
      if (kb) rss = Math.max(rss, Number(kb) / 1024);
      const user = /User time \(seconds\): ([\d.]+)/.exec(run.stderr ?? "")?.[1];
      const sys = /System time \(seconds\): ([\d.]+)/.exec(run.stderr ?? "")?.[1];
      if (user && sys) cpu = Math.min(cpu, Number(user) + Number(sys));
    }
    rows.push({ method: m, "wall s (best)": best.toFixed(2), "cpu s (best)": Number.isFinite(cpu) ? cpu.toFixed(2) : "n/a", "peak RSS MB (worst)": rss ? rss.toFixed(0) : "n/a" });
  }
  if (rows.length > 0) console.table(rows);
  rmSync(dir, { recursive: true, force: true });
}
