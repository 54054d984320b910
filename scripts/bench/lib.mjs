// Parent-side helpers of `npm run bench`: child processes, the load generators, process CPU
// from /proc, and Prometheus text.
import { spawn, spawnSync, execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";

const here = fileURLToPath(new URL(".", import.meta.url));
export const root = join(here, "..", "..");
// Made at the first load, so that scripts using only the other helpers leave no directory behind.
let work;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);
export const round = (x, digits = 2) => (Number.isFinite(x) ? +x.toFixed(digits) : x);

/** Starts a child node script with piped stdin/stdout; `line()` awaits its next stdout line. */
export function child(script, args, opts = {}) {
  const proc = spawn(process.execPath, [join(here, script), ...args], { cwd: root, stdio: ["pipe", "pipe", "inherit"], env: opts.env ?? process.env });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  return {
    proc,
    async line(timeoutMs = 120_000) {
      const r = await Promise.race([lines.next(), sleep(timeoutMs).then(() => ({ value: `timeout after ${timeoutMs} ms` }))]);
      if (r.done) throw new Error(`${script} exited`);
      return r.value;
    },
    send: (line) => proc.stdin.write(`${line}\n`),
    stop: () => new Promise((r) => (proc.exitCode !== null ? r() : (proc.on("exit", r), proc.kill("SIGTERM")))),
  };
}

/** utime + stime in seconds of a process, from /proc (0 when it is gone). */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(stat[11]) + Number(stat[12])) / 100;
  } catch {
    return 0;
  }
}

/** Node flags that make a child print its own CPU time on exit (read with cpuOf): a ratio of CPU times holds on a busy machine. */
export const CPU_HOOK = ["--import", "data:text/javascript,import{writeSync}from'node:fs';process.on('exit',()=>{const u=process.cpuUsage();writeSync(2,'\\ncpu-us '+(u.user+u.system)+'\\n')})"];
/** Seconds of CPU a child run with CPU_HOOK printed on its stderr. */
export const cpuOf = (stderr) => Number(/cpu-us (\d+)/.exec(stderr)?.[1] ?? NaN) / 1e6;

const HASH_LINES = `const { createHash } = require("node:crypto"); const s = require("node:fs").createReadStream(process.argv[1], { highWaterMark: 1 << 20 });
let rest = Buffer.alloc(0), n = 0; s.on("data", (c) => { const b = rest.length ? Buffer.concat([rest, c]) : c; let at = 0;
for (let nl = b.indexOf(10); nl >= 0; nl = b.indexOf(10, at)) { createHash("sha256").update(b.subarray(at, nl)).digest(); n++; at = nl + 1; } rest = b.subarray(at); });
s.on("end", () => console.log(n));`;

/** The audit's limit: a fresh Node process reads a file of log lines and hashes each once with SHA-256. */
export function readAndHash(file) {
  const began = performance.now();
  const run = spawnSync(process.execPath, [...CPU_HOOK, "-e", HASH_LINES, file], { encoding: "utf8" });
  return { entries: Number(run.stdout.trim()), wall: (performance.now() - began) / 1000, cpu: cpuOf(run.stderr) };
}

/** The "<pid>/task/<tid>" of a process's thread with this name (/proc/…/comm), if it has one. */
export function threadNamed(pid, name) {
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      if (readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim() === name) return `${pid}/task/${tid}`;
    }
  } catch {
    /* the process is gone */
  }
  return undefined;
}

/** The local MariaDB server's pid, when there is one. */
export function mariadbPid() {
  for (const name of ["mariadbd", "mysqld"]) {
    try {
      return Number(execFileSync("pidof", ["-s", name], { encoding: "utf8" }).trim());
    } catch {
      /* not running under this name */
    }
  }
  return undefined;
}

/** CPU seconds of named processes between `start()` and `stop()`; undefined for one that exited meanwhile (e.g. a restarted mariadbd). */
export function cpuMeter(pids) {
  const entries = Object.entries(pids).filter(([, pid]) => pid);
  let before;
  return {
    start: () => (before = entries.map(([, pid]) => cpuSeconds(pid))),
    stop: () =>
      Object.fromEntries(
        entries.map(([name, pid], i) => {
          const d = cpuSeconds(pid) - before[i];
          return [name, existsSync(`/proc/${pid}`) && d >= 0 ? d : undefined];
        }),
      ),
  };
}

/**
 * Load from `procs` loadgen.mjs processes (interleaved shares of the calls and of the
 * concurrency). Resolves once every process is connected; then `go()` starts them all and
 * `done()` resolves to the merged results, per call in call order.
 */
export async function startLoad({ addr, path, messages, tokens = [], concurrency, procs = 1, repeat = false }) {
  procs = Math.max(1, Math.min(procs, concurrency, repeat ? procs : messages.length));
  const kids = [];
  for (let k = 0; k < procs; k++) {
    const mine = (xs) => xs.filter((_, i) => i % procs === k);
    work ??= mkdtempSync(join(tmpdir(), "voting-bench-load-"));
    const job = join(work, `job-${Date.now()}-${k}.json`);
    const share = Math.floor(concurrency / procs) + (k < concurrency % procs ? 1 : 0);
    // A voter's token once per process, however many elections it votes in.
    const index = new Map();
    const tokenOf = mine(tokens).map((t) => index.get(t) ?? index.set(t, index.size).get(t));
    const encoded = (repeat ? messages : mine(messages)).map((m) => Buffer.from(m).toString("base64"));
    writeFileSync(job, JSON.stringify({ addr, path, concurrency: share, repeat, messages: encoded, tokens: [...index.keys()], tokenOf, out: `${job}.out` }));
    kids.push({ c: child("loadgen.mjs", [job]), out: `${job}.out` });
  }
  for (const { c } of kids) {
    const l = await c.line();
    if (l !== "ready") throw new Error(`load generator: ${l}`);
  }
  let summaries;
  return {
    pids: kids.map((k) => k.c.proc.pid),
    go() {
      summaries = Promise.all(kids.map(async ({ c }) => (c.send("go"), JSON.parse(await c.line(3_600_000)))));
    },
    stop: () => kids.forEach(({ c }) => c.send("stop")),
    async done() {
      const s = await summaries;
      const calls = s.reduce((a, x) => a + x.calls, 0);
      const latencies = new Float64Array(calls);
      const acks = new Float64Array(calls);
      s.forEach((x, k) => {
        const buf = readFileSync(kids[k].out);
        const pairs = new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
        for (let j = 0; j < x.calls; j++) {
          const i = k + j * procs;
          latencies[i] = pairs[2 * j];
          acks[i] = pairs[2 * j + 1];
        }
      });
      await Promise.all(kids.map(({ c }) => c.stop()));
      const codes = {};
      for (const x of s) for (const [code, n] of Object.entries(x.codes)) codes[code] = (codes[code] ?? 0) + n;
      const start = Math.min(...s.map((x) => x.start));
      const end = Math.max(...s.map((x) => x.end));
      const ok = codes[0] ?? 0;
      const sorted = Float64Array.from(latencies.filter((_, i) => !Number.isNaN(acks[i]))).sort();
      return { calls, ok, codes, seconds: (end - start) / 1000, perSecond: ok / ((end - start) / 1000), p50: pct(sorted, 50), p99: pct(sorted, 99), cpuMs: s.reduce((a, x) => a + x.cpuMs, 0), start, end, acks, responseBytes: s[0].responseBytes };
    },
  };
}

/** Parses Prometheus text into samples. */
export function parseMetrics(text) {
  const samples = [];
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m) samples.push({ name: m[1], labels: Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]])), value: Number(m[3]) });
  }
  return samples;
}

/** Sum of the samples named `name` whose labels include `labels`. */
export function metric(samples, name, labels = {}) {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
}

/** Quantile q of a histogram's observations between two scrapes: the upper bound of the bucket that holds it. */
export function histogramQuantile(before, after, name, labels, q) {
  const buckets = after
    .filter((s) => s.name === `${name}_bucket` && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .map((s) => ({ le: s.labels.le, n: s.value - metric(before, `${name}_bucket`, { ...labels, le: s.labels.le }) }))
    .map((b) => ({ le: b.le === "+Inf" ? Infinity : Number(b.le), n: b.n }))
    .sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.n ?? 0;
  return buckets.find((b) => b.n >= q * total)?.le ?? NaN;
}

export async function scrape(port) {
  if (!port) return [];
  try {
    return parseMetrics(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
  } catch {
    return [];
  }
}
