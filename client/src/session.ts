// A token source for a long-running user session (not for services: they sign client
// assertions, see server-kit service-keys.ts): logs in when needed and
// refreshes the access token a minute before it expires.
import type { VotingClient } from "@voting/api";

export function loginTokenSource(client: VotingClient, username: string, password: string): () => Promise<string> {
  let access: { token: string; expires: number; refresh: string; refreshExpires: number } | undefined;
  let pending: Promise<string> | undefined;
  const renew = async (): Promise<string> => {
    let tokens;
    if (access && access.refreshExpires - Date.now() > 60_000) {
      try {
        tokens = (await client.auth.refreshToken({ refreshToken: access.refresh })).tokens;
      } catch {
        tokens = undefined;
      }
    }
    tokens ??= (await client.auth.login({ username, password })).tokens;
    if (!tokens) throw new Error("auth-server returned no tokens");
    access = {
      token: tokens.accessToken,
      expires: tokens.accessTokenExpireTime?.getTime() ?? 0,
      refresh: tokens.refreshToken,
      refreshExpires: tokens.refreshTokenExpireTime?.getTime() ?? 0,
    };
    return access.token;
  };
  return async () => {
    if (access && access.expires - Date.now() > 60_000) return access.token;
    return (pending ??= renew().finally(() => (pending = undefined)));
  };
}
