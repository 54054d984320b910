import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger };

/** JSON lines on stdout (or `destination`). Never log passwords, tokens, hashes or ballot content. */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? "info", destination?: DestinationStream): Logger {
  const options = {
    name: service,
    level,
    base: { service },
    redact: { paths: ["password", "token", "*.password", "*.token", "authorization"], censor: "[redacted]" },
  };
  return destination ? pino(options, destination) : pino(options);
}
