// How a server reaches the others: one typed client (@voting/api) that authenticates as the server's service
// account, and the JWKS of auth-server for verifying callers' tokens locally.
import { createVotingClient, type VotingClient } from "@voting/api";
import type { JWTVerifyGetKey } from "jose";
import type { KeyObject } from "node:crypto";
import { createCachedKeySet } from "./jwks.js";
import type { TlsMaterial } from "./tls.js";
import { assertionTokenSource, signServiceAssertion } from "./service-keys.js";

export interface Peers {
  /** Calls carry the service account's access token. */
  client: VotingClient;
  keys: JWTVerifyGetKey;
  /**
   * Checks now and then every everyMs that auth-server answers (JWKS) and that we hold a
   * service token; reports each change (the first result always). Resolves after the first check.
   */
  watchAuth(everyMs: number, onChange: (ok: boolean, err?: unknown) => void): Promise<void>;
  /** The same for vote-server: that it answers (a public ListElections, no token needed). */
  watchVote(everyMs: number, onChange: (ok: boolean, err?: unknown) => void): Promise<void>;
  close(): void;
}

/** `key` signs the account's client assertions; `issuer` is auth-server's (their audience). */
/** With tls, peers are dialled over TLS and the server's own certificate is its client certificate. */
export function connectPeers(opts: { authAddr: string; voteAddr?: string; account: string; key: KeyObject; issuer: string; tls?: TlsMaterial }): Peers {
  const anonymous = createVotingClient({ authAddr: opts.authAddr, voteAddr: opts.voteAddr, waitForReady: true, tls: opts.tls });
  const token = assertionTokenSource(
    async (assertion) => {
      const r = await anonymous.auth.issueServiceToken({ assertion }, { deadlineMs: 5_000 });
      return { token: r.accessToken, expiresAt: r.accessTokenExpireTime?.getTime() ?? 0 };
    },
    () => signServiceAssertion(opts.key, opts.account, opts.issuer),
  );
  const client = createVotingClient({ authAddr: opts.authAddr, voteAddr: opts.voteAddr, waitForReady: true, tls: opts.tls, token });
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;
  const watch = async (everyMs: number, probe: (deadlineMs: number) => Promise<unknown>, onChange: (ok: boolean, err?: unknown) => void) => {
    let last: boolean | undefined;
    const check = async () => {
      let ok = true;
      let error: unknown;
      try {
        await probe(Math.min(2_000, everyMs));
      } catch (err) {
        ok = false;
        error = err;
      }
      if (ok !== last) onChange(ok, error);
      last = ok;
      if (!closed) {
        const timer = setTimeout(() => (timers.delete(timer), check()), everyMs);
        timers.add(timer);
      }
    };
    await check();
  };
  const keys = createCachedKeySet(async () => (await anonymous.auth.getJwks({ deadlineMs: 5_000 })).keys);
  return {
    client,
    keys: keys.getKey,
    watchAuth: (everyMs, onChange) =>
      watch(
        everyMs,
        async (deadlineMs) => {
          // Keys auth-server no longer publishes stop verifying here within everyMs.
          keys.replace((await anonymous.auth.getJwks({ deadlineMs })).keys);
          await token();
        },
        onChange,
      ),
    watchVote: (everyMs, onChange) => watch(everyMs, (deadlineMs) => anonymous.elections.listElections({ pageSize: 1 }, { deadlineMs }), onChange),
    close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      client.close();
      anonymous.close();
    },
  };
}
