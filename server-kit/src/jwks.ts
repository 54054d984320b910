// Public keys fetched from auth-server (GetJwks over gRPC), cached, and refetched when a
// token names a kid we have not seen (key rotation), at most once per minRefetchMs.
import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, type JWK, type JWTVerifyGetKey } from "jose";
import { UnavailableError } from "./errors.js";

export function createCachedKeySet(fetchKeys: () => Promise<JWK[]>, minRefetchMs = 10_000): JWTVerifyGetKey {
  let local: JWTVerifyGetKey | undefined;
  let fetchedAt = 0;
  let inflight: Promise<void> | undefined;

  const refresh = () =>
    (inflight ??= fetchKeys()
      .then((keys) => {
        local = createLocalJWKSet({ keys } as JSONWebKeySet);
        fetchedAt = Date.now();
      })
      .catch((err: unknown) => {
        throw new UnavailableError(`cannot fetch signing keys from auth-server: ${(err as Error).message}`);
      })
      .finally(() => (inflight = undefined)));

  return async (header, token) => {
    if (!local) await refresh();
    try {
      return await local!(header, token);
    } catch (err) {
      if (!(err instanceof joseErrors.JWKSNoMatchingKey) || Date.now() - fetchedAt < minRefetchMs) throw err;
      await refresh();
      return local!(header, token);
    }
  };
}
