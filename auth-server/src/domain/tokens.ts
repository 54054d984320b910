// Signing keys and token issuing. Keys live in the store so that tokens survive restarts
// and every replica publishes the same JWKS; the newest key signs.
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from "jose";
import { randomBytes, randomUUID } from "node:crypto";
import { ACCESS_TOKEN_TYPE, REFRESH_TOKEN_TYPE, TOKEN_ALGORITHM, UnauthenticatedError, verifyToken } from "@voting/server-kit";
import type { KeyRepository } from "../db/key-repository.js";
import type { User } from "./users.js";

export interface TokenPair {
  accessToken: string;
  accessExpiresAt: Date;
  refreshToken: string;
  refreshExpiresAt: Date;
}

export interface TokenSettings {
  issuer: string;
  audience: string;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
}

export interface TokenIssuer {
  issue(user: User): Promise<TokenPair>;
  verifyRefresh(token: string): Promise<{ userId: number }>;
  publicKeys(): JWK[];
  /** Key lookup for verifying access tokens locally. */
  keyFor(kid: string | undefined): Promise<CryptoKey | Uint8Array>;
}

export async function loadOrCreateSigningKey(keys: KeyRepository): Promise<void> {
  if ((await keys.all()).length > 0) return;
  const { privateKey, publicKey } = await generateKeyPair(TOKEN_ALGORITHM, { crv: "Ed25519", extractable: true });
  const kid = randomBytes(12).toString("base64url");
  const pub = { ...(await exportJWK(publicKey)), kid, alg: TOKEN_ALGORITHM, use: "sig" };
  const priv = { ...(await exportJWK(privateKey)), kid, alg: TOKEN_ALGORITHM };
  await keys.insert({ kid, privateJwk: JSON.stringify(priv), publicJwk: JSON.stringify(pub), createdAt: Date.now() });
}

export async function tokenIssuer(keys: KeyRepository, s: TokenSettings): Promise<TokenIssuer> {
  await loadOrCreateSigningKey(keys);
  const stored = await keys.all();
  const publicJwks = stored.map((k) => JSON.parse(k.publicJwk) as JWK);
  const publicKeys = new Map<string, CryptoKey | Uint8Array>();
  for (const jwk of publicJwks) publicKeys.set(jwk.kid!, await importJWK(jwk, TOKEN_ALGORITHM));
  const signing = stored[0];
  const privateKey = await importJWK(JSON.parse(signing.privateJwk) as JWK, TOKEN_ALGORITHM);

  const sign = (user: User, type: string, audience: string, ttl: number, now: number) =>
    new SignJWT({ role: user.role, name: user.username })
      .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid: signing.kid, typ: type })
      .setSubject(String(user.id))
      .setIssuer(s.issuer)
      .setAudience(audience)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(now / 1000) + ttl)
      .setJti(randomUUID())
      .sign(privateKey);

  const keyFor = async (kid: string | undefined) => {
    const key = kid ? publicKeys.get(kid) : undefined;
    if (!key) throw new UnauthenticatedError("token is signed by an unknown key");
    return key;
  };

  return {
    async issue(user) {
      const now = Date.now();
      const [accessToken, refreshToken] = await Promise.all([
        sign(user, ACCESS_TOKEN_TYPE, s.audience, s.accessTtlSeconds, now),
        // Refresh tokens are for the issuer alone: another audience and another type.
        sign(user, REFRESH_TOKEN_TYPE, s.issuer, s.refreshTtlSeconds, now),
      ]);
      const at = (ttl: number) => new Date((Math.floor(now / 1000) + ttl) * 1000);
      return { accessToken, accessExpiresAt: at(s.accessTtlSeconds), refreshToken, refreshExpiresAt: at(s.refreshTtlSeconds) };
    },
    async verifyRefresh(token) {
      const claims = await verifyToken(token, { keys: (h) => keyFor(h.kid), issuer: s.issuer, audience: s.issuer, type: REFRESH_TOKEN_TYPE });
      return { userId: claims.userId };
    },
    publicKeys: () => publicJwks,
    keyFor,
  };
}
