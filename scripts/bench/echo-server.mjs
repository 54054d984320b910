#!/usr/bin/env node
// Child process of `npm run bench`: the limit of a grpc-js unary call on this machine. A raw
// grpc-js server (no interceptors, no service code) whose one method reads the caller's bearer
// token from the metadata and answers with as many bytes as a CastVote receipt (or a
// GetResults response). It uses the servers' own per-connection stream limit. Prints its port
// once listening; on "count" (stdin) prints {"ok":n,"refused":n}, the calls answered so far.
// Usage: echo-server.mjs <response bytes> [public]   ("public": a call needs no token, as GetResults)
import grpc from "@grpc/grpc-js";
import { createInterface } from "node:readline";

const response = Buffer.alloc(Number(process.argv[2] ?? 200), 7);
const open = process.argv[3] === "public";
const identity = (b) => b;
const counts = { ok: 0, refused: 0 };
const server = new grpc.Server({ "grpc.max_concurrent_streams": 256 });
server.addService(
  { Echo: { path: "/bench.Echo/Echo", requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } },
  {
    Echo(call, callback) {
      const auth = call.metadata.get("authorization")[0];
      if (!open && (typeof auth !== "string" || !auth.startsWith("Bearer "))) {
        counts.refused++;
        callback({ code: grpc.status.UNAUTHENTICATED, details: "no token" });
      } else {
        counts.ok++;
        callback(null, response);
      }
    },
  },
);
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  console.log(String(port));
});
process.on("SIGTERM", () => (server.forceShutdown(), process.exit(0)));
createInterface({ input: process.stdin })
  .on("line", (line) => line === "count" && console.log(JSON.stringify(counts)))
  .on("close", () => process.exit(0)); // the bench is gone
