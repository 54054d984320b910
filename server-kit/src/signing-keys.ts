// Ed25519 signing keys as stored by the servers that sign (auth-server for tokens,
// tally-server for final result statements). The newest key signs; every key is published.
import { exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import { randomBytes } from "node:crypto";
import { TOKEN_ALGORITHM } from "./auth.js";

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
