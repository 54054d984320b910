// Settings every server reads. Each server adds its own; the README table lists all.
import { int, oneOf, port, str, withoutPassword, type Setting } from "./config.js";
import { parseDatabaseUrl } from "./db.js";
import { parseKek } from "./signing-keys.js";

export const commonSettings = {
  HOST: { doc: "Address the servers bind to", default: "127.0.0.1", parse: str },
  DATABASE_URL: {
    doc: "Store: sqlite:<path> (embedded) or mysql://user:pass@host:port/db",
    default: "sqlite:data/voting.sqlite",
    parse: (raw: string) => (parseDatabaseUrl(raw), raw),
    secret: withoutPassword,
  },
  LOG_LEVEL: { doc: "pino log level", default: "info", parse: oneOf("trace", "debug", "info", "warn", "error", "fatal", "silent") },
  AUTH_ADDR: { doc: "Address of auth-server that servers and the CLI dial", default: "localhost:50051", parse: str },
  JWT_ISSUER: { doc: "Token issuer (iss), checked exactly", default: "voting-auth", parse: str },
  JWT_AUDIENCE: { doc: "Access-token audience (aud), checked exactly", default: "voting", parse: str },
  GRPC_MAX_RECEIVE_BYTES: { doc: "Largest request message a server accepts", default: String(1024 * 1024), parse: int(1024, 64 * 1024 * 1024) },
  GRPC_MAX_CONCURRENT_STREAMS: { doc: "Concurrent calls per client connection", default: "256", parse: int(1, 100_000) },
  TLS_CERT_FILE: { doc: "PEM certificate (chain) the server presents to callers, and to its peers as its client certificate; TLS is on when this, TLS_KEY_FILE and TLS_CA_FILE are set", default: "", parse: str },
  TLS_KEY_FILE: { doc: "PEM private key of TLS_CERT_FILE", default: "", parse: str },
  DB_CHECK_EVERY_MS: {
    doc: "How often each server checks that its database answers (select 1, at most 2 s); health is NOT_SERVING while it does not, and a query that finds the database unreachable checks at once",
    default: "2000",
    parse: int(100, 600_000),
  },
  METRICS_HOST: { doc: "Address the servers' Prometheus `/metrics` endpoints bind to (plain HTTP, no auth); empty: HOST", default: "", parse: str },
  TLS_CA_FILE: { doc: "PEM CA that peers' server certificates and services' client certificates must chain to; a private CA that signs only this system's servers", default: "", parse: str },
} satisfies Record<string, Setting<unknown>>;

/** Settings of the servers that call auth-server (vote-server, tally-server). */
export const peerSettings = {
  PEER_CHECK_EVERY_MS: {
    doc: "How often vote-server and tally-server check that auth-server answers (keys, service token); health is NOT_SERVING while it does not. The fetched keys replace the cached ones",
    default: "3000",
    parse: int(100, 600_000),
  },
} satisfies Record<string, Setting<unknown>>;

export { port };

/** A server's `/metrics` port setting (AUTH_METRICS_PORT, ...): empty means no endpoint. */
export const metricsPortSetting = (server: string) => ({
  doc: `Port of ${server}'s Prometheus \`/metrics\` HTTP endpoint (0: any free port); empty: none`,
  default: "",
  parse: (raw: string): number | undefined => (raw === "" ? undefined : port(raw)),
});

/** Where the signing servers (auth, tally) get their keys; see "Keys" in README.md. */
export const signingKeySettings = {
  KEY_ENCRYPTION_KEY: {
    doc: "32 random bytes, base64: seals the signing keys that the servers keep in the store (unless a key file is set); `npm start` makes one in data/keys/",
    default: "",
    parse: (raw: string) => (raw === "" ? undefined : parseKek(raw)),
    secret: true,
  },
  KEY_ENCRYPTION_KEY_FILE: { doc: "File holding KEY_ENCRYPTION_KEY instead (base64 text)", default: "", parse: str },
  SIGNING_KEY_ROTATE_HOURS: { doc: "With a key-encryption key: a new signing key when the newest is this old (0: never)", default: "720", parse: int(0, 876_000) },
  SIGNING_KEY_RELOAD_MS: { doc: "How often the signing keys are re-read (key file or store), so rotation needs no restart", default: "5000", parse: int(100, 3_600_000) },
} satisfies Record<string, Setting<unknown>>;
