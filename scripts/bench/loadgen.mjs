#!/usr/bin/env node
// Child process of `npm run bench`: one load generator. It drives unary calls of any method
// through grpc-js exactly alike (CastVote, the echo server, GetResults, Login), from requests
// encoded and metadata built before the start, so the generator spends its time on gRPC.
// Usage: loadgen.mjs <job.json>. Job: { addr, path, concurrency, messages: [base64],
// tokens: [string], tokenOf: [index] (call i sends tokens[tokenOf[i]], or tokens[i] without
// tokenOf), repeat (cycle the messages until "stop"), out (file for the per-call results) }. Prints "ready" once connected; on "go"
// (stdin) runs; when done prints a JSON summary and writes Float64 pairs (latency ms, ack
// wall-clock ms) per call, in call order, to `out` (ack is NaN for a failed call).
import { readFileSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { performance } from "node:perf_hooks";
import grpc from "@grpc/grpc-js";

const job = JSON.parse(readFileSync(process.argv[2], "utf8"));
const messages = job.messages.map((m) => Buffer.from(m, "base64"));
const distinct = (job.tokens ?? []).map((t) => {
  const md = new grpc.Metadata();
  md.set("authorization", `Bearer ${t}`);
  return md;
});
const metadata = job.tokenOf ? job.tokenOf.map((k) => distinct[k]) : distinct;
const none = new grpc.Metadata();
const identity = (b) => b;
const client = new grpc.Client(job.addr, grpc.credentials.createInsecure(), { "grpc.max_receive_message_length": 64 * 1024 * 1024, "grpc.keepalive_time_ms": 60_000 });
const wall = () => performance.timeOrigin + performance.now();

let stopping = false;
const results = [];
const codes = {};
let responseBytes = 0;

function call(i) {
  const t0 = performance.now();
  return new Promise((resolve) => {
    client.makeUnaryRequest(job.path, identity, identity, messages[i % messages.length], metadata[i] ?? none, (err, res) => {
      const ms = performance.now() - t0;
      const code = err ? err.code : 0;
      codes[code] = (codes[code] ?? 0) + 1;
      if (!err) responseBytes = res.length;
      results.push(i, ms, err ? NaN : wall());
      resolve();
    });
  });
}

async function run() {
  const cpu0 = process.cpuUsage();
  const start = wall();
  let next = 0;
  const total = job.repeat ? Infinity : messages.length;
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (next < total && !stopping) await call(next++);
    }),
  );
  const end = wall();
  const cpu = process.cpuUsage(cpu0);
  const out = new Float64Array(2 * next);
  for (let k = 0; k < results.length; k += 3) {
    out[2 * results[k]] = results[k + 1];
    out[2 * results[k] + 1] = results[k + 2];
  }
  writeFileSync(job.out, out);
  console.log(JSON.stringify({ calls: next, codes, cpuMs: (cpu.user + cpu.system) / 1000, start, end, responseBytes }));
}

client.waitForReady(Date.now() + 30_000, (err) => {
  if (err) {
    console.log(`error ${err.message}`);
    process.exit(1);
  }
  console.log("ready");
});
createInterface({ input: process.stdin })
  .on("line", (line) => {
    if (line === "go") run().then(() => (client.close(), process.exit(0)));
    if (line === "stop") stopping = true;
  })
  .on("close", () => process.exit(1)); // the bench is gone
