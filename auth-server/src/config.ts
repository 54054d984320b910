import { commonSettings, metricsPortSetting, int, port, readConfig, signingKeySettings, str } from "@voting/server-kit";

/** "svc-vote=vote-server,svc-tally=tally-server" -> account -> certificate name. */
export function parseCertNames(raw: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of raw.split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = /^([^=\s]+)=([^=\s]+)$/.exec(item);
    if (!m) throw new Error(`"${item}" is not account=certificate-name`);
    out.set(m[1], m[2]);
  }
  return out;
}

export const authSettings = {
  ...commonSettings,
  ...signingKeySettings,
  SERVICE_PUBLIC_KEYS_FILE: {
    doc: "JWKS of the service accounts' Ed25519 public keys (kid = account, e.g. svc-vote); `npm start` creates it",
    default: "data/keys/service-keys.jwks.json",
    parse: str,
  },
  SERVICE_CERT_NAMES: {
    doc: "With TLS: account=name pairs; IssueServiceToken gives an account's token only to a client certificate whose CN or DNS SAN is that name",
    default: "svc-vote=vote-server,svc-tally=tally-server",
    parse: parseCertNames,
  },
  AUTH_SIGNING_KEY_FILE: { doc: "PEM file of Ed25519 keys (PKCS#8) that sign tokens: the first signs, all are published; re-read when it changes. Unset: keys sealed with the key-encryption key", default: "", parse: str },
  AUTH_PORT: { doc: "auth-server port", default: "50051", parse: port },
  AUTH_METRICS_PORT: metricsPortSetting("auth-server"),
  ACCESS_TOKEN_TTL_SECONDS: { doc: "Access-token lifetime", default: "900", parse: int(30, 86_400) },
  REFRESH_TOKEN_TTL_SECONDS: { doc: "Refresh-token lifetime", default: "604800", parse: int(60, 90 * 86_400) },
  ARGON2_MEMORY_KIB: { doc: "argon2id memory cost in KiB (OWASP minimum 19456)", default: "19456", parse: int(1024, 4 * 1024 * 1024) },
  ARGON2_TIME_COST: { doc: "argon2id iterations (OWASP minimum 2 at 19 MiB)", default: "2", parse: int(1, 100) },
  ARGON2_PARALLELISM: { doc: "argon2id lanes", default: "1", parse: int(1, 16) },
  AUTH_NICE: { doc: "CPU priority (nice, 1-19) of the auth-server process, every thread of it (Linux), so that a login storm's argon2 takes only the CPU that voting leaves; 0 keeps the default", default: "10", parse: int(0, 19) },
  AUTH_HASH_CONCURRENCY: { doc: "Password hashes and checks run at once; 0: 1 on 2 cores or fewer, else half the cores", default: "0", parse: int(0, 256) },
  AUTH_HASH_QUEUE: { doc: "Logins and registrations that may wait for a password check; past it, RESOURCE_EXHAUSTED `PASSWORD_CHECKS_BUSY` with a retry hint", default: "1000", parse: int(0, 100_000) },
  LOGIN_MAX_FAILURES_PER_USER_ADDRESS: { doc: "Failed logins per (username, client address) per 15 minutes before that pair gets RESOURCE_EXHAUSTED", default: "10", parse: int(1, 1_000_000) },
  LOGIN_SLOW_AFTER_FAILURES_PER_USER: { doc: "Failed logins per username (all addresses) per 15 minutes after which each further attempt is delayed", default: "100", parse: int(1, 1_000_000) },
  LOGIN_MAX_DELAY_MS: { doc: "Longest delay added to a login attempt for a username past that ceiling (100 ms, doubling)", default: "5000", parse: int(0, 60_000) },
  VOTING_ADMIN_USERNAME: { doc: "With VOTING_ADMIN_PASSWORD: the admin account that auth-server creates (or resets the password of) at start", default: "", parse: str },
  VOTING_ADMIN_PASSWORD: { doc: "Password of VOTING_ADMIN_USERNAME, 8 to 1024 characters", default: "", parse: str, secret: true },
  LOGIN_MAX_ATTEMPTS_PER_PEER: { doc: "Login attempts per client address (IPv6: per /64) per minute; successful logins do not count, and an address is not held to it for a user who logged in from it in the last 7 days", default: "300", parse: int(1, 1_000_000) },
  REGISTER_MAX_PER_PEER: { doc: "Register calls per client address (IPv6: per /64) per minute (each costs a password hash)", default: "30", parse: int(1, 1_000_000) },
};

export type AuthConfig = ReturnType<typeof readAuthConfig>;

export function readAuthConfig(env: Record<string, string | undefined> = process.env) {
  return readConfig(authSettings, env);
}
