// Ed25519 signing keys as stored by the servers that sign (auth-server for tokens,
// tally-server for final result statements). The newest key signs; every key is published.
import { exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import { TOKEN_ALGORITHM } from "./auth.js";
import type { Database } from "./db.js";

export interface StoredKey {
  kid: string;
  privateJwk: string;
  publicJwk: string;
  createdAt: number;
}

export async function generateSigningKey(): Promise<StoredKey> {
  const { privateKey, publicKey } = await generateKeyPair(TOKEN_ALGORITHM, { crv: "Ed25519", extractable: true });
  const kid = randomBytes(12).toString("base64url");
  const pub = { ...(await exportJWK(publicKey)), kid, alg: TOKEN_ALGORITHM, use: "sig" };
  const priv = { ...(await exportJWK(privateKey)), kid, alg: TOKEN_ALGORITHM };
  return { kid, privateJwk: JSON.stringify(priv), publicJwk: JSON.stringify(pub), createdAt: Date.now() };
}

export interface KeyStore {
  /** All keys, newest first. */
  all(): Promise<StoredKey[]>;
  insert(key: StoredKey): Promise<void>;
}

/** Columns kid, private_jwk, public_jwk, created_at; each signing service has its own table. */
export function signingKeyStore(db: Database<any>, table: "auth_signing_keys" | "tally_signing_keys"): KeyStore {
  const t = sql.table(table);
  return {
    async all() {
      const { rows } = await sql<{ kid: string; private_jwk: string; public_jwk: string; created_at: number }>`
        select kid, private_jwk, public_jwk, created_at from ${t} order by created_at desc, kid`.execute(db.kysely);
      return rows.map((r) => ({ kid: r.kid, privateJwk: r.private_jwk, publicJwk: r.public_jwk, createdAt: Number(r.created_at) }));
    },
    async insert(key) {
      await sql`insert into ${t} (kid, private_jwk, public_jwk, created_at) values (${key.kid}, ${key.privateJwk}, ${key.publicJwk}, ${key.createdAt})`.execute(db.kysely);
    },
  };
}

export interface SigningKeys {
  kid: string;
  privateKey: CryptoKey | Uint8Array;
  publicJwks: JWK[];
}

/** Loads the keys, making the first one if there is none. */
export async function loadSigningKeys(store: KeyStore): Promise<SigningKeys> {
  if ((await store.all()).length === 0) await store.insert(await generateSigningKey());
  const stored = await store.all();
  return {
    kid: stored[0].kid,
    privateKey: await importJWK(JSON.parse(stored[0].privateJwk) as JWK, TOKEN_ALGORITHM),
    publicJwks: stored.map((k) => JSON.parse(k.publicJwk) as JWK),
  };
}

/** A JWK as the proto JsonWebKey message. */
export const toProtoJwk = (k: JWK) => ({ kid: k.kid ?? "", kty: k.kty ?? "", crv: k.crv ?? "", x: k.x ?? "", alg: k.alg ?? "", use: k.use ?? "" });
