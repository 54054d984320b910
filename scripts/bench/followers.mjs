#!/usr/bin/env node
// Child process of `npm run bench`: holds many anonymous StreamBallots follow streams open
// against vote-server, as a crowd of public followers would. It speaks gRPC over node:http2
// directly and only counts bytes (grpc-js would cost this shared machine more CPU than the
// server spends), except on a sample of streams, whose entries are decoded and checked for
// gaps. Prints "ready" once every stream has its first message; on "report" (stdin) prints
// a JSON line of what it saw.
// Usage: followers.mjs <vote addr> <streams> <election id> <after seq>
import http2 from "node:http2";
import { createInterface } from "node:readline";

const { voteV1 } = await import("@voting/api");
const [addr, countArg, electionArg, afterArg] = process.argv.slice(2);
const COUNT = Number(countArg);
const PER_SESSION = 200; // below the server's 256 concurrent streams per connection
const SAMPLE_EVERY = 500;

const request = Buffer.from(voteV1.StreamBallotsRequest.encode(voteV1.StreamBallotsRequest.fromPartial({ electionId: Number(electionArg), afterSeq: Number(afterArg), follow: true })).finish());
const framed = Buffer.concat([Buffer.from([0, 0, 0, 0, request.length]), request]);

const stats = { streams: COUNT, open: 0, bytes: 0, errors: {}, sampled: 0, sampleGaps: 0, sampleLastSeq: [] };
const sessions = [];
const streams = [];
let firsts = 0;

/** Splits gRPC length-prefixed messages out of a sampled stream's bytes. */
function sampler(start) {
  let pending = Buffer.alloc(0);
  const s = { last: start };
  s.push = (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
      const len = pending.readUInt32BE(1);
      for (const e of voteV1.StreamBallotsResponse.decode(pending.subarray(5, 5 + len)).entries) {
        if (e.seq !== s.last + 1) stats.sampleGaps++;
        s.last = e.seq;
      }
      pending = pending.subarray(5 + len);
    }
  };
  return s;
}

for (let i = 0; i < COUNT; i++) {
  if (i % PER_SESSION === 0) {
    const session = http2.connect(`http://${addr}`);
    session.on("error", () => undefined);
    sessions.push(session);
  }
  const stream = sessions.at(-1).request({ ":method": "POST", ":path": "/voting.vote.v1.VoteService/StreamBallots", "content-type": "application/grpc", te: "trailers" });
  stream.end(framed);
  const sample = i % SAMPLE_EVERY === 0 ? sampler(Number(afterArg)) : undefined;
  if (sample) stats.sampled++;
  let first = true;
  stream.on("data", (chunk) => {
    stats.bytes += chunk.length;
    if (first) {
      first = false;
      stats.open++;
      if (++firsts === COUNT) console.log("ready");
    }
    sample?.push(chunk);
  });
  stream.on("response", (h) => {
    if (h["grpc-status"] !== undefined) stats.errors[`${h["grpc-status"]} ${decodeURI(h["grpc-message"] ?? "")}`] = 1 + (stats.errors[`${h["grpc-status"]} ${decodeURI(h["grpc-message"] ?? "")}`] ?? 0);
  });
  stream.on("trailers", (h) => {
    const key = `${h["grpc-status"]} ${decodeURI(h["grpc-message"] ?? "")}`;
    stats.errors[key] = (stats.errors[key] ?? 0) + 1;
  });
  stream.on("error", () => undefined);
  streams.push({ stream, sample });
}

createInterface({ input: process.stdin }).on("line", (line) => {
  if (line.trim() !== "report") return;
  stats.sampleLastSeq = streams.filter((s) => s.sample).map((s) => s.sample.last);
  const cpu = process.cpuUsage();
  stats.cpuSeconds = (cpu.user + cpu.system) / 1e6;
  console.log(JSON.stringify(stats));
}).on("close", () => process.exit(0)); // the bench is gone
process.on("SIGTERM", () => {
  for (const s of sessions) s.destroy();
  process.exit(0);
});
