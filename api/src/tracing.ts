// Client side of tracing: with a tracer provider registered in the process (the servers
// register one when tracing is configured), each unary call gets a client span whose W3C
// traceparent goes out in the metadata. Without one, the OpenTelemetry API is a no-op.
import { SpanKind, SpanStatusCode, context, propagation, trace, type TextMapSetter } from "@opentelemetry/api";
import type { Metadata } from "@grpc/grpc-js";

const setter: TextMapSetter<Metadata> = { set: (md, key, value) => md.set(key, value) };

/** Puts the active trace context (if any) into outgoing metadata. */
export function injectTraceContext(md: Metadata): void {
  propagation.inject(context.active(), md, setter);
}

/**
 * Starts a client span for a call to `path` ("/pkg.Service/Method") and injects it; returns
 * the function that ends it with the call's status code, or undefined when nothing records.
 */
export function clientSpan(path: string | undefined, md: Metadata): ((code: number, details?: string) => void) | undefined {
  const [service, method] = path?.slice(1).split("/") ?? [];
  const span = trace.getTracer("voting-client").startSpan(path?.slice(1) ?? "grpc", {
    kind: SpanKind.CLIENT,
    attributes: { "rpc.system": "grpc", "rpc.service": service, "rpc.method": method },
  });
  if (!span.isRecording()) {
    injectTraceContext(md);
    return undefined;
  }
  propagation.inject(trace.setSpan(context.active(), span), md, setter);
  return (code, details) => {
    span.setAttribute("rpc.grpc.status_code", code);
    if (code !== 0) span.setStatus({ code: SpanStatusCode.ERROR, message: details });
    span.end();
  };
}
