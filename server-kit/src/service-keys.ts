// Service accounts authenticate with signed client assertions (RFC 7523 style), never with a
// password: each service holds an Ed25519 private key in a file, auth-server the public keys
// (a JWKS whose kid names the account). Nothing a caller of the public API can guess or exhaust.
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SignJWT } from "jose";
import { ConfigError } from "./config.js";
import { TOKEN_ALGORITHM } from "./auth.js";

export const SERVICE_ACCOUNTS = ["svc-vote", "svc-tally"] as const;
export type ServiceAccount = (typeof SERVICE_ACCOUNTS)[number];
/** Usernames of the service accounts; nobody can register or log in under this prefix. */
export const SERVICE_ACCOUNT_PREFIX = "svc-";
/** Longest exp - iat auth-server accepts; a service signs for a minute. */
export const ASSERTION_MAX_LIFETIME_SECONDS = 300;
const ASSERTION_LIFETIME_SECONDS = 60;

/** Reads a PKCS#8 PEM Ed25519 private key; problems are ConfigErrors naming the file. */
export function loadServicePrivateKey(file: string, setting: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(file, "utf8"));
  } catch (err) {
    throw new ConfigError(`${setting}=${file}: cannot read a PKCS#8 PEM private key (${(err as Error).message}); \`npm start\` creates one`);
  }
  if (key.asymmetricKeyType !== "ed25519") throw new ConfigError(`${setting}=${file}: not an Ed25519 key`);
  return key;
}

/** Reads the JWKS of service public keys into account -> key. */
export function loadServicePublicKeys(file: string, setting: string): Map<string, KeyObject> {
  const out = new Map<string, KeyObject>();
  try {
    const jwks = JSON.parse(readFileSync(file, "utf8")) as { keys?: Array<Record<string, string>> };
    for (const jwk of jwks.keys ?? []) {
      if (jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.kid !== "string" || !jwk.kid.startsWith(SERVICE_ACCOUNT_PREFIX)) {
        throw new Error(`key ${JSON.stringify(jwk.kid)} is not an Ed25519 key of a svc-* account`);
      }
      out.set(jwk.kid, createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: jwk.x }, format: "jwk" }));
    }
  } catch (err) {
    throw new ConfigError(`${setting}=${file}: cannot read the service public keys (${(err as Error).message}); \`npm start\` creates them`);
  }
  return out;
}

/** A client assertion: iss = sub = kid = the account, aud = auth-server's issuer, one minute. */
export function signServiceAssertion(key: KeyObject, account: string, audience: string, now = Date.now()): Promise<string> {
  const iat = Math.floor(now / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid: account, typ: "JWT" })
    .setIssuer(account)
    .setSubject(account)
    .setAudience(audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ASSERTION_LIFETIME_SECONDS)
    .setJti(randomUUID())
    .sign(key);
}

/**
 * Creates `<dir>/<account>.pem` (PKCS#8, mode 0600) for each service account that has none,
 * and writes their public keys to `<dir>/service-keys.jwks.json`. For `npm start` and tests.
 */
export function ensureServiceKeyFiles(dir: string): { privateKeyFiles: Record<ServiceAccount, string>; publicKeysFile: string } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const privateKeyFiles = {} as Record<ServiceAccount, string>;
  const keys = [];
  for (const account of SERVICE_ACCOUNTS) {
    const file = join(dir, `${account}.pem`);
    if (!existsSync(file)) {
      const { privateKey } = generateKeyPairSync("ed25519");
      writeFileSync(file, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600, flag: "wx" });
    }
    privateKeyFiles[account] = file;
    const jwk = createPublicKey(loadServicePrivateKey(file, account)).export({ format: "jwk" });
    keys.push({ kid: account, kty: jwk.kty, crv: jwk.crv, x: jwk.x, alg: TOKEN_ALGORITHM, use: "sig" });
  }
  const publicKeysFile = join(dir, "service-keys.jwks.json");
  writeFileSync(publicKeysFile, `${JSON.stringify({ keys }, null, 2)}\n`);
  return { privateKeyFiles, publicKeysFile };
}

/**
 * A token source for a service: signs a fresh assertion, exchanges it for an access token,
 * and reuses that token until shortly before it expires.
 */
export function assertionTokenSource(
  exchange: (assertion: string) => Promise<{ token: string; expiresAt: number }>,
  sign: () => Promise<string>,
): () => Promise<string> {
  let current: { token: string; renewAt: number } | undefined;
  let pending: Promise<string> | undefined;
  const renew = async () => {
    const now = Date.now();
    const { token, expiresAt } = await exchange(await sign());
    current = { token, renewAt: expiresAt - Math.min(60_000, (expiresAt - now) / 2) };
    return token;
  };
  return async () => {
    if (current && Date.now() < current.renewAt) return current.token;
    return (pending ??= renew().finally(() => (pending = undefined)));
  };
}
