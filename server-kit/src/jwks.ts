// Public keys fetched from auth-server (GetJwks over gRPC), cached, and refetched when a
// token names a kid we have not seen (key rotation), at most once per minRefetchMs. The
// cache is also replaced whenever someone fetched the JWKS anyway (peers' periodic check),
// so a key that auth-server stopped publishing (removed after a compromise, or retired)
// stops verifying within one check instead of at the next restart.
import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, type JWK, type JWTVerifyGetKey } from "jose";
import { UnavailableError } from "./errors.js";

export interface CachedKeySet {
  getKey: JWTVerifyGetKey;
  /** The keys auth-server publishes now; replaces what is cached. */
  replace(keys: JWK[]): void;
}

export function createCachedKeySet(fetchKeys: () => Promise<JWK[]>, minRefetchMs = 10_000): CachedKeySet {
  let local: JWTVerifyGetKey | undefined;
  let fetchedAt = 0;
  let inflight: Promise<void> | undefined;

  const replace = (keys: JWK[]) => {
    local = createLocalJWKSet({ keys } as JSONWebKeySet);
    fetchedAt = Date.now();
  };
  const refresh = () =>
    (inflight ??= fetchKeys()
      .then(replace)
      .catch((err: unknown) => {
        throw new UnavailableError(`cannot fetch signing keys from auth-server: ${(err as Error).message}`, { reason: "PEER_UNAVAILABLE" });
      })
      .finally(() => (inflight = undefined)));

  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (!local) await refresh();
    try {
      return await local!(header, token);
    } catch (err) {
      if (!(err instanceof joseErrors.JWKSNoMatchingKey) || Date.now() - fetchedAt < minRefetchMs) throw err;
      await refresh();
      return local!(header, token);
    }
  };
  return { getKey, replace };
}
