// Token issuing. The key ring (a key file, or keys sealed in the store) is reloaded while
// running: the key that signs is looked up per token, every published key verifies.
import { SignJWT, type JWK } from "jose";
import { randomUUID, type KeyObject } from "node:crypto";
import { ACCESS_TOKEN_TYPE, REFRESH_TOKEN_TYPE, TOKEN_ALGORITHM, UnauthenticatedError, verifyToken, type KeyRing } from "@voting/server-kit";
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
  keyFor(kid: string | undefined): Promise<KeyObject>;
}

export function tokenIssuer(keys: KeyRing, s: TokenSettings): TokenIssuer {
  const sign = (user: User, type: string, audience: string, ttl: number, now: number) => {
    const { kid, privateKey } = keys.signer();
    return new SignJWT({ role: user.role, name: user.username })
      .setProtectedHeader({ alg: TOKEN_ALGORITHM, kid, typ: type })
      .setSubject(String(user.id))
      .setIssuer(s.issuer)
      .setAudience(audience)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(now / 1000) + ttl)
      .setJti(randomUUID())
      .sign(privateKey);
  };

  const keyFor = async (kid: string | undefined) => {
    const key = keys.keyFor(kid);
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
    publicKeys: () => keys.publicJwks(),
    keyFor,
  };
}
