// How a server reaches the others: one client that authenticates as the server's service
// account, and the JWKS of auth-server for verifying callers' tokens locally.
import { createVotingClient, loginTokenSource, type VotingClient } from "@voting/client";
import type { JWTVerifyGetKey } from "jose";
import { createCachedKeySet } from "./jwks.js";
import type { TlsMaterial } from "./tls.js";

export interface Peers {
  /** Calls carry the service account's access token. */
  client: VotingClient;
  keys: JWTVerifyGetKey;
  close(): void;
}

/** With tls, peers are dialled over TLS and the server's own certificate is its client certificate. */
export function connectPeers(opts: { authAddr: string; voteAddr?: string; account: string; password: string; tls?: TlsMaterial }): Peers {
  const anonymous = createVotingClient({ authAddr: opts.authAddr, waitForReady: true, tls: opts.tls });
  const client = createVotingClient({
    authAddr: opts.authAddr,
    voteAddr: opts.voteAddr,
    waitForReady: true,
    tls: opts.tls,
    token: loginTokenSource(anonymous, opts.account, opts.password),
  });
  return {
    client,
    keys: createCachedKeySet(async () => (await anonymous.auth.getJwks({ deadlineMs: 5_000 })).keys),
    close() {
      client.close();
      anonymous.close();
    },
  };
}
