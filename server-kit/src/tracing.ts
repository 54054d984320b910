// OpenTelemetry tracing, off unless configured: then W3C traceparent travels in gRPC
// metadata, every RPC gets a server span and the typed client a client span per call.
import { context, propagation, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";

let provider: NodeTracerProvider | undefined;

/** True once startTracing registered a provider; interceptors skip all span work while false. */
export function tracingEnabled(): boolean {
  return provider !== undefined;
}

/**
 * The exporter the standard variables ask for: OTEL_TRACES_EXPORTER=otlp (or =console), or
 * an OTLP endpoint set (OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
 * read by the exporter itself) unless OTEL_TRACES_EXPORTER=none. Undefined means off.
 */
export function exporterFromEnv(env: NodeJS.ProcessEnv = process.env): SpanExporter | undefined {
  const kind = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (kind === "none" || (!kind && !endpoint)) return undefined;
  if (kind === "console") return new ConsoleSpanExporter();
  if (kind && kind !== "otlp") throw new Error(`OTEL_TRACES_EXPORTER: "${kind}" is not supported (otlp, console or none)`);
  return new OTLPTraceExporter();
}

/**
 * Registers the process-wide tracer provider (once; later calls do nothing) with the W3C
 * trace-context propagator and an AsyncLocalStorage context manager, which is why it stays
 * unregistered, and costs nothing, while tracing is off. Tests pass an in-memory exporter.
 * Returns whether tracing is on.
 */
export function startTracing(service: string, opts: { exporter?: SpanExporter; env?: NodeJS.ProcessEnv } = {}): boolean {
  if (provider) return true;
  const env = opts.env ?? process.env;
  const exporter = opts.exporter ?? exporterFromEnv(env);
  if (!exporter) return false;
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": env.OTEL_SERVICE_NAME || service }),
    spanProcessors: [opts.exporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter)],
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  return true;
}

/** Flushes the spans still buffered and unregisters the provider. */
export async function stopTracing(): Promise<void> {
  const p = provider;
  provider = undefined;
  if (!p) return;
  await p.shutdown();
  trace.disable();
  propagation.disable();
  context.disable();
}
