import { pino, type Logger } from "pino";

export type { Logger };

/** JSON lines on stdout. Never log passwords, tokens, hashes or ballot content. */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({
    name: service,
    level,
    base: { service },
    redact: { paths: ["password", "token", "*.password", "*.token", "authorization"], censor: "[redacted]" },
  });
}
