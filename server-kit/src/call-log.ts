// What operators see of each call: a request id (the caller's x-request-id or a new one,
// returned in the response metadata), the peer and the principal on every log line of the
// call, one access line per RPC, its metrics, and a server span when tracing is on.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace, type Context, type Span, type TextMapGetter } from "@opentelemetry/api";
import { Metadata, ServerInterceptingCall, status as Status, type ServerInterceptor } from "@grpc/grpc-js";
import { randomUUID } from "node:crypto";
import { principalOf, type Principal } from "./auth.js";
import type { Logger } from "./logger.js";
import type { ServerMetrics } from "./metrics.js";
import { tracingEnabled } from "./tracing.js";

export const REQUEST_ID_HEADER = "x-request-id";
const REQUEST_ID = /^[\w.:-]{1,128}$/;
const HEALTH_CHECK = /^\/grpc\.health\./;
const tracer = trace.getTracer("voting-server");

interface CallScope {
  reqId: string;
  /** Client address without its port, e.g. "ipv4:127.0.0.1". */
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

export function callObserver(log: Logger, metrics?: ServerMetrics): ServerInterceptor {
  return (method, call) => {
    // Orchestrators poll health every few seconds; keep those lines out of the info log.
    const level = HEALTH_CHECK.test(method.path) ? "debug" : "info";
    const started = process.hrtime.bigint();
    let metadata: Metadata | undefined;
    let scope: CallScope | undefined;
    let span: Span | undefined;
    let traced: Context | undefined;
    let headersSent = false;
    const within = <T>(fn: () => T): T => (traced ? context.with(traced, fn) : fn());
    return new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(md, forward) {
            metadata = md;
            const given = md.get(REQUEST_ID_HEADER)[0];
            scope = { reqId: typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID(), peer: call.getPeer().replace(/:\d+$/, "") };
            scopes.set(md, scope);
            if (tracingEnabled()) {
              // A malformed traceparent extracts to nothing: the call starts a new trace.
              const parent = propagation.extract(ROOT_CONTEXT, md, metadataGetter);
              const [service, name] = method.path.slice(1).split("/");
              span = tracer.startSpan(
                method.path.slice(1),
                { kind: SpanKind.SERVER, attributes: { "rpc.system": "grpc", "rpc.service": service, "rpc.method": name, "voting.request_id": scope.reqId } },
                parent,
              );
              traced = trace.setSpan(parent, span);
            }
            // Handlers (and peer calls they make) run in the span's context.
            within(() => forward(md));
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
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        // Built only when someone reads it: the benches and busy servers run at "warn".
        const wanted = log.isLevelEnabled(level);
        const fields = metadata && (wanted || span) ? callFields(metadata) : {};
        if (wanted) log[level]({ ...fields, method: method.path, code: status.code, ms: Math.round(ms * 100) / 100 }, "rpc");
        metrics?.rpc(method.path, status.code, ms / 1e3);
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
  };
}
