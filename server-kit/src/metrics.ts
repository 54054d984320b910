// Prometheus metrics: one registry per server (tests run three servers in one process), served
// on a side HTTP port only when METRICS_PORT is set.
import { createServer, type Server as HttpServer } from "node:http";
import { status as Status } from "@grpc/grpc-js";
import { collectDefaultMetrics, Counter, Histogram, Registry } from "prom-client";

// The servers' own metrics use these, so prom-client is a dependency of server-kit only.
export { Counter, Gauge, Histogram, type Registry } from "prom-client";

export interface ServerMetrics {
  registry: Registry;
  /** Records one finished call; methods outside `known` are labelled "unknown" so callers cannot grow the label set. */
  rpc(path: string, code: number, seconds: number): void;
  /** Paths of the served methods, e.g. "/voting.vote.v1.VoteService/CastVote". */
  known: Set<string>;
}

// Health and reflection are added by startGrpcServer, not listed in the services.
const PLUMBING = [
  "/grpc.health.v1.Health/Check",
  "/grpc.health.v1.Health/Watch",
  "/grpc.health.v1.Health/List",
  "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
  "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

export function serverMetrics(): ServerMetrics {
  const registry = new Registry();
  const labelNames = ["grpc_service", "grpc_method", "grpc_code"] as const;
  const seconds = new Histogram({
    name: "grpc_server_handling_seconds",
    help: "Time from a call's arrival to its status, by method and status code",
    labelNames,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  // The histogram's count, copied at each scrape rather than counted twice per call.
  new Counter({
    name: "grpc_server_handled_total",
    help: "RPCs completed, by method and status code",
    labelNames,
    registers: [registry],
    async collect() {
      const counts = (await seconds.get()).values.filter((v) => v.metricName === "grpc_server_handling_seconds_count");
      // No await between the reset and the counts: a scrape running beside this one sees them whole.
      this.reset();
      for (const v of counts) this.inc(v.labels, v.value);
    },
  });
  const known = new Set(PLUMBING);
  // The labelled histogram of each method and code, made once (every call used to build its labels).
  const children = new Map<string, Map<number, { observe(seconds: number): void }>>();
  const childOf = (path: string, code: number) => {
    const key = known.has(path) ? path : "unknown";
    let byCode = children.get(key);
    if (!byCode) children.set(key, (byCode = new Map()));
    let child = byCode.get(code);
    if (!child) {
      const slash = path.lastIndexOf("/");
      const [service, method] = key === path ? [path.slice(1, slash), path.slice(slash + 1)] : ["unknown", "unknown"];
      byCode.set(code, (child = seconds.labels({ grpc_service: service, grpc_method: method, grpc_code: Status[code] ?? String(code) })));
    }
    return child;
  };
  return {
    registry,
    known,
    rpc(path, code, s) {
      childOf(path, code).observe(s);
    },
  };
}

export interface MetricsEndpoint {
  port: number;
  close(): Promise<void>;
}

/** Serves GET /metrics of the registry (with the process's default metrics) on host:port; 404 elsewhere. */
export async function serveMetrics(registry: Registry, host: string, port: number): Promise<MetricsEndpoint> {
  collectDefaultMetrics({ register: registry });
  const http: HttpServer = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (path !== "/metrics" || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
      (err: Error) => res.writeHead(500, { "content-type": "text/plain" }).end(`${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(port, host, () => (http.off("error", reject), resolve()));
  });
  const address = http.address();
  return {
    port: typeof address === "object" && address ? address.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}
