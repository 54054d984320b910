// The web server's settings, from the environment once (every variable is in README.md).
import { readFileSync } from "node:fs";

/** Every variable the web server reads (README.md documents each; test/readme.test.ts checks). */
export const WEB_ENV = ["WEB_PORT", "WEB_HOST", "HOST", "AUTH_ADDR", "VOTE_ADDR", "TALLY_ADDR", "VOTING_CA_FILE", "WEB_TLS_CERT_FILE", "WEB_TLS_KEY_FILE", "WEB_SECURE_COOKIES", "WEB_LIVE_PER_CLIENT", "WEB_LIVE_MAX", "LOG_LEVEL"] as const;

export interface WebConfig {
  host: string;
  port: number;
  authAddr: string;
  voteAddr: string;
  tallyAddr: string;
  /** PEM CA to dial the services over TLS (else plaintext). */
  ca?: Buffer;
  /** HTTPS certificate and key: with them the server speaks HTTPS and cookies are Secure. */
  https?: { cert: Buffer; key: Buffer };
  /** Cookies marked Secure (HTTPS here, or a TLS-terminating proxy in front). */
  secureCookies: boolean;
  logLevel: string;
  /** Live-results (SSE) connections held open at once: per client address, and in all. */
  liveLimits: { perClient: number; total: number };
}

export function readWebConfig(env: NodeJS.ProcessEnv = process.env): WebConfig {
  const problems: string[] = [];
  const port = Number(env.WEB_PORT ?? "8080");
  if (!Number.isInteger(port) || port < 0 || port > 65535) problems.push(`WEB_PORT must be a port number, got "${env.WEB_PORT}"`);
  const read = (name: string) => {
    const file = env[name];
    if (!file) return undefined;
    try {
      return readFileSync(file);
    } catch (err) {
      problems.push(`${name}: cannot read ${file}: ${(err as Error).message}`);
      return undefined;
    }
  };
  const cert = read("WEB_TLS_CERT_FILE");
  const key = read("WEB_TLS_KEY_FILE");
  if (!!env.WEB_TLS_CERT_FILE !== !!env.WEB_TLS_KEY_FILE) problems.push("WEB_TLS_CERT_FILE and WEB_TLS_KEY_FILE go together");
  const https = cert && key ? { cert, key } : undefined;
  const ca = read("VOTING_CA_FILE");
  const count = (name: string, fallback: number) => {
    const n = Number(env[name] ?? fallback);
    if (!Number.isInteger(n) || n < 1) problems.push(`${name} must be a whole number of 1 or more, got "${env[name]}"`);
    return n;
  };
  const liveLimits = { perClient: count("WEB_LIVE_PER_CLIENT", 16), total: count("WEB_LIVE_MAX", 5000) };
  if (problems.length > 0) throw new Error(`bad web configuration:\n  ${problems.join("\n  ")}`);
  return Object.freeze({
    host: env.WEB_HOST || env.HOST || "127.0.0.1",
    port,
    authAddr: env.AUTH_ADDR || "localhost:50051",
    voteAddr: env.VOTE_ADDR || "localhost:50052",
    tallyAddr: env.TALLY_ADDR || "localhost:50053",
    ca,
    https,
    secureCookies: !!https || env.WEB_SECURE_COOKIES === "true",
    logLevel: env.LOG_LEVEL || "info",
    liveLimits,
  });
}
