import { describe, expect, it } from "vitest";
import { ConsoleSpanExporter } from "@opentelemetry/sdk-trace-base";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { exporterFromEnv } from "./tracing.js";

describe("exporterFromEnv", () => {
  it("when nothing is set, then tracing stays off", () => {
    expect(exporterFromEnv({})).toBeUndefined();
  });

  it("when an OTLP endpoint is set, then spans go to OTLP unless the exporter is none", () => {
    expect(exporterFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" })).toBeInstanceOf(OTLPTraceExporter);
    expect(exporterFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://127.0.0.1:4318/v1/traces" })).toBeInstanceOf(OTLPTraceExporter);
    expect(exporterFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318", OTEL_TRACES_EXPORTER: "none" })).toBeUndefined();
  });

  it("when the exporter is named, then that one is used; an unknown name is refused", () => {
    expect(exporterFromEnv({ OTEL_TRACES_EXPORTER: "otlp" })).toBeInstanceOf(OTLPTraceExporter);
    expect(exporterFromEnv({ OTEL_TRACES_EXPORTER: "Console" })).toBeInstanceOf(ConsoleSpanExporter);
    expect(() => exporterFromEnv({ OTEL_TRACES_EXPORTER: "zipkin" })).toThrow(/not supported/);
  });
});
