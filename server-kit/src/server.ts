// One way to run a gRPC server here: limits, the call interceptor (access log, auth), health,
// reflection, and a shutdown that drains calls before it closes.
import { Server, type ServiceDefinition, type UntypedServiceImplementation } from "@grpc/grpc-js";
import { HealthImplementation, type ServingStatus } from "grpc-health-check";
import { createAuthorizer, type AccessTable, type TokenVerifier } from "./auth.js";
import { createReflection } from "./reflection.js";
import { serverCredentials, type TlsMaterial } from "./tls.js";
import { tolerantDeserializers } from "./handlers.js";
import type { Logger } from "./logger.js";
import { callInterceptor } from "./call-log.js";
import { serveMetrics, type MetricsEndpoint, type ServerMetrics } from "./metrics.js";

export interface ServiceBinding {
  /** Full name, e.g. "voting.vote.v1.VoteService". */
  name: string;
  definition: ServiceDefinition;
  implementation: UntypedServiceImplementation;
}

export interface ServerLimits {
  maxReceiveMessageBytes: number;
  maxConcurrentStreams: number;
}

export const DEFAULT_LIMITS: ServerLimits = { maxReceiveMessageBytes: 1024 * 1024, maxConcurrentStreams: 256 };

export interface StartServerOptions {
  host: string;
  port: number;
  services: ServiceBinding[];
  access: AccessTable;
  verifier: TokenVerifier;
  log: Logger;
  limits?: ServerLimits;
  /** Serve TLS, and accept service tokens only from callers with a client certificate of the CA. */
  tls?: TlsMaterial;
  /** RPC counts and latencies go here; served on metricsHost:metricsPort when that port is set. */
  metrics?: ServerMetrics;
  metricsHost?: string;
  metricsPort?: number;
}

/** A started service, as its composition root hands it to main.ts and tests. */
export interface RunningService {
  port: number;
  /** Bound port of the /metrics endpoint, when METRICS_PORT is set. */
  metricsPort?: number;
  stop(): Promise<void>;
}

export interface RunningServer {
  port: number;
  metricsPort?: number;
  /**
   * Records whether one condition (e.g. "auth", "reconciliation") lets the server do its job;
   * health says SERVING only while every condition is ok.
   */
  setServing(serving: boolean, condition?: string): void;
  /** Stops taking calls, waits up to graceMs for running ones, then cuts the rest. */
  shutdown(graceMs?: number): Promise<void>;
}

export async function startGrpcServer(opts: StartServerOptions): Promise<RunningServer> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const server = new Server({
    "grpc.max_receive_message_length": limits.maxReceiveMessageBytes,
    "grpc.max_send_message_length": 16 * 1024 * 1024,
    "grpc.max_concurrent_streams": limits.maxConcurrentStreams,
    "grpc.keepalive_time_ms": 60_000,
    "grpc.keepalive_timeout_ms": 20_000,
    "grpc.keepalive_permit_without_calls": 1,
    "grpc.http2.min_ping_interval_without_data_ms": 10_000,
    // Channelz (per-call counters and timestamps for a debugging service) is not served here.
    "grpc.enable_channelz": 0,
    interceptors: [callInterceptor(opts.log, createAuthorizer(opts.access, opts.verifier, { serviceNeedsClientCertificate: opts.tls !== undefined }), opts.metrics)],
  });
  for (const s of opts.services) server.addService(tolerantDeserializers(s.definition), s.implementation);
  for (const s of opts.services) for (const m of Object.values(s.definition)) opts.metrics?.known.add(m.path);

  const statuses = (status: ServingStatus) => Object.fromEntries(["", ...opts.services.map((s) => s.name)].map((n) => [n, status]));
  const health = new HealthImplementation(statuses("SERVING"));
  health.addToServer(server);
  createReflection(opts.services.map((s) => s.name)).addToServer(server);

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${opts.host}:${opts.port}`, serverCredentials(opts.tls), (err, p) => (err ? reject(err) : resolve(p))),
  );

  let endpoint: MetricsEndpoint | undefined;
  if (opts.metrics && opts.metricsPort !== undefined) {
    try {
      endpoint = await serveMetrics(opts.metrics.registry, opts.metricsHost || opts.host, opts.metricsPort);
    } catch (err) {
      server.forceShutdown();
      throw err;
    }
  }

  const failing = new Set<string>();
  const setServing = (serving: boolean, condition = "server") => {
    if (serving) failing.delete(condition);
    else failing.add(condition);
    for (const [name, status] of Object.entries(statuses(failing.size === 0 ? "SERVING" : "NOT_SERVING"))) health.setStatus(name, status);
  };

  return {
    port,
    metricsPort: endpoint?.port,
    setServing,
    async shutdown(graceMs = 5_000) {
      setServing(false, "shutdown");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      await endpoint?.close();
    },
  };
}
