// A load generator that costs little per call: h2load (Debian package nghttp2-client) posting
// one prebuilt gRPC frame over HTTP/2, so the server, not a Node client, sets the pace. h2load
// counts HTTP statuses only; gRPC statuses are checked beside it (grpcOnce, and the servers'
// own counts of OK calls).
import { spawn, spawnSync } from "node:child_process";
import { connect } from "node:http2";

/** The h2load binary, or undefined when it is not installed. */
export function h2loadBinary() {
  const r = spawnSync("sh", ["-c", "command -v h2load"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** A gRPC length-prefixed message: uncompressed flag, big-endian length, the bytes. */
export function grpcFrame(message) {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  Buffer.from(message).copy(frame, 5);
  return frame;
}

/** Headers of a gRPC call, as h2load sends them ("name: value") and as node:http2 takes them. */
export const GRPC_HEADERS = { "content-type": "application/grpc", te: "trailers" };

/** One call with node:http2: HTTP status, gRPC status (trailers, or headers when trailers-only) and the response message. */
export async function grpcOnce(addr, path, frame, headers = GRPC_HEADERS) {
  const session = connect(`http://${addr}`);
  try {
    return await new Promise((resolve, reject) => {
      const req = session.request({ ":method": "POST", ":path": path, ...headers });
      let head = {};
      let trailers = {};
      const chunks = [];
      req.on("response", (h) => (head = h));
      req.on("trailers", (t) => (trailers = t));
      req.on("data", (c) => chunks.push(c));
      req.on("error", reject);
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        const status = trailers["grpc-status"] ?? head["grpc-status"];
        resolve({ httpStatus: head[":status"], grpcStatus: status === undefined ? undefined : Number(status), message: body.length >= 5 ? body.subarray(5, 5 + body.readUInt32BE(1)) : undefined });
      });
      req.end(frame);
    });
  } finally {
    session.close();
  }
}

const duration = (m) => (m ? Number(m[1]) / { us: 1e6, ms: 1e3, s: 1 }[m[2]] : NaN);

/**
 * Runs h2load: `requests` POSTs of `body` (a file) to http://addr/path over `clients`
 * connections with `streams` in flight on each, one thread. Resolves to its counts, rate and
 * its own CPU (the shell that waits for it reads its children's CPU from /proc).
 */
export function h2load({ binary, addr, path, bodyFile, headers = GRPC_HEADERS, requests, clients, streams }) {
  const args = ["-n", String(requests), "-c", String(clients), "-m", String(streams), "-t", "1", "-d", bodyFile];
  for (const [k, v] of Object.entries(headers)) args.push("-H", `${k}: ${v}`);
  args.push(`http://${addr}${path}`);
  const script = 'h="$1"; shift; "$h" "$@"; rc=$?; read -r s < /proc/$$/stat; echo "children-cpu $s"; exit $rc';
  return new Promise((resolve, reject) => {
    const p = spawn("sh", ["-c", script, "sh", binary, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (c) => (out += c));
    p.stderr.on("data", (c) => (out += c));
    p.on("error", reject);
    p.on("exit", (code) => {
      const num = (re) => Number(re.exec(out)?.[1]);
      const stat = /children-cpu .*?\) (.*)/.exec(out)?.[1].split(" ");
      const r = {
        requests: num(/requests: (\d+) total/),
        succeeded: num(/(\d+) succeeded/),
        failed: num(/(\d+) failed/),
        errored: num(/(\d+) errored/),
        seconds: duration(/finished in ([\d.]+)(us|ms|s),/.exec(out)),
        perSecond: num(/finished in [^,]+, ([\d.]+) req\/s/),
        // cutime + cstime, in clock ticks of 1/100 s.
        cpuMs: stat ? (Number(stat[13]) + Number(stat[14])) * 10 : NaN,
      };
      if (code !== 0 || !Number.isFinite(r.succeeded)) reject(new Error(`h2load failed (exit ${code}):\n${out}`));
      else resolve(r);
    });
  });
}
