// What operators see of each call: a request id (the caller's x-request-id or a new one,
// returned in the response metadata), the peer and the principal on every log line of the
// call, one access line per RPC, its metrics, and a server span when tracing is on; all in the
// server's one interceptor, which also runs the auth check.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace, type Context, type Span, type TextMapGetter } from "@opentelemetry/api";
import { Metadata, ServerInterceptingCall, status as Status, type ServerInterceptor } from "@grpc/grpc-js";
import { randomUUID } from "node:crypto";
import { principalOf, type Authorize, type Principal } from "./auth.js";
import type { Logger } from "./logger.js";
import type { ServerMetrics } from "./metrics.js";
import { tracingEnabled } from "./tracing.js";

export const REQUEST_ID_HEADER = "x-request-id";
const REQUEST_ID = /^[\w.:-]{1,128}$/;
const HEALTH_CHECK = /^\/grpc\.health\./;
const tracer = trace.getTracer("voting-server");

interface CallScope {
  reqId: string;
  /** Client address without its port, e.g. "127.0.0.1" (grpc-js read it when the call came in). */
  peer: string;
}

// Keyed by the Metadata object handlers receive, as auth.ts keys principals.
const scopes = new WeakMap<Metadata, CallScope>();

/** "voter:12", "service:svc-vote"; never the token. */
export function principalLabel(p: Principal | undefined): string | undefined {
  if (!p) return undefined;
  return p.role === "service" ? `service:${p.username}` : `${p.role}:${p.userId}`;
}

/** The fields that tie a log line to its call: reqId, peer, principal. */
export function callFields(metadata: Metadata): { reqId?: string; peer?: string; principal?: string } {
  const scope = scopes.get(metadata);
  return { reqId: scope?.reqId, peer: scope?.peer, principal: principalLabel(principalOf(metadata)) };
}

/** The request id of the call whose metadata this is (passed on to peers with x-request-id). */
export function requestIdOf(metadata: Metadata): string | undefined {
  return scopes.get(metadata)?.reqId;
}

const metadataGetter: TextMapGetter<Metadata> = {
  keys: (md) => Object.keys(md.getMap()),
  get: (md, key) => md.get(key).filter((v): v is string => typeof v === "string"),
};

/** What the interceptor needs of a method, worked out once per path. */
interface Route {
  /** Orchestrators poll health every few seconds; keep those lines out of the info log. */
  level: "debug" | "info";
  service: string;
  name: string;
}

/**
 * The one interceptor of every call: request id, access line, metrics and span (above), with
 * `authorize` deciding from the metadata whether the handler runs. One interceptor rather than
 * two saves grpc-js a layer of intercepting call and listener per call.
 */
export function callInterceptor(log: Logger, authorize: Authorize, metrics?: ServerMetrics): ServerInterceptor {
  // Only served methods reach interceptors (grpc-js answers others itself), so this stays small.
  const routes = new Map<string, Route>();
  const routeOf = (path: string): Route => {
    let r = routes.get(path);
    if (!r) {
      const [service, name] = path.slice(1).split("/");
      routes.set(path, (r = { level: HEALTH_CHECK.test(path) ? "debug" : "info", service, name }));
    }
    return r;
  };
  return (method, call) => {
    const path = method.path;
    const route = routeOf(path);
    const started = performance.now();
    let metadata: Metadata | undefined;
    let scope: CallScope | undefined;
    let span: Span | undefined;
    let traced: Context | undefined;
    let headersSent = false;
    const within = <T>(fn: () => T): T => (traced ? context.with(traced, fn) : fn());
    const intercepting: ServerInterceptingCall = new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(md, forward) {
            metadata = md;
            const given = md.get(REQUEST_ID_HEADER)[0];
            // The scope must not hold the call: a WeakMap entry whose value reaches its own key (the
            // call holds this metadata) outlives young-generation collections; GC per call doubled.
            scope = { reqId: typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID(), peer: call.getConnectionInfo().remoteAddress ?? "unknown" };
            scopes.set(md, scope);
            if (tracingEnabled()) {
              // A malformed traceparent extracts to nothing: the call starts a new trace.
              const parent = propagation.extract(ROOT_CONTEXT, md, metadataGetter);
              span = tracer.startSpan(
                path.slice(1),
                { kind: SpanKind.SERVER, attributes: { "rpc.system": "grpc", "rpc.service": route.service, "rpc.method": route.name, "voting.request_id": scope.reqId } },
                parent,
              );
              traced = trace.setSpan(parent, span);
            }
            // The check, the handler and peer calls they make run in the span's context; a
            // refusal goes out through this call, so it is logged and counted like any answer.
            within(() => authorize(path, call, md, forward, (status) => intercepting.sendStatus(status)));
          },
          onReceiveMessage: (message, forward) => within(() => forward(message)),
          onReceiveHalfClose: (forward) => within(() => forward()),
        });
      },
      sendMetadata(md, next) {
        headersSent = true;
        if (scope) md.set(REQUEST_ID_HEADER, scope.reqId);
        next(md);
      },
      sendStatus(status, next) {
        const ms = performance.now() - started;
        // Built only when someone reads it: the benches and busy servers run at "warn".
        const wanted = log.isLevelEnabled(route.level);
        const fields = metadata && (wanted || span) ? callFields(metadata) : {};
        if (wanted) log[route.level]({ ...fields, method: path, code: status.code, ms: Math.round(ms * 100) / 100 }, "rpc");
        metrics?.rpc(path, status.code, ms / 1e3);
        if (span) {
          span.setAttribute("rpc.grpc.status_code", status.code);
          if (fields.principal) span.setAttribute("enduser.id", fields.principal);
          if (status.code !== Status.OK) span.setStatus({ code: SpanStatusCode.ERROR, message: status.details });
          span.end();
        }
        // An error before any response carries the request id in its trailers.
        if (scope && !headersSent) {
          const trailers = status.metadata ?? new Metadata();
          trailers.set(REQUEST_ID_HEADER, scope.reqId);
          return next({ ...status, metadata: trailers });
        }
        next(status);
      },
    });
    return intercepting;
  };
}
