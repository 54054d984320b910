#!/usr/bin/env node
// Child process of `npm run bench`: the limit of a grpc-js unary call on this machine. A raw
// grpc-js server (no interceptors, no service code) whose one method reads the caller's bearer
// token from the metadata and answers with as many bytes as a CastVote receipt. It uses the
// servers' own per-connection stream limit. Prints its port once listening.
// Usage: echo-server.mjs <response bytes>
import grpc from "@grpc/grpc-js";

const response = Buffer.alloc(Number(process.argv[2] ?? 200), 7);
const identity = (b) => b;
const server = new grpc.Server({ "grpc.max_concurrent_streams": 256 });
server.addService(
  { Echo: { path: "/bench.Echo/Echo", requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } },
  {
    Echo(call, callback) {
      const auth = call.metadata.get("authorization")[0];
      if (typeof auth !== "string" || !auth.startsWith("Bearer ")) callback({ code: grpc.status.UNAUTHENTICATED, details: "no token" });
      else callback(null, response);
    },
  },
);
server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  console.log(String(port));
});
process.on("SIGTERM", () => (server.forceShutdown(), process.exit(0)));
process.stdin.on("end", () => process.exit(0)).resume(); // the bench is gone
