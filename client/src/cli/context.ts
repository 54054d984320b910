// What every command needs: addresses from the environment, the typed client, output.
import { decodeJwt } from "jose";
import { readFileSync } from "node:fs";
import { createVotingClient, type TlsOptions, type VotingClient } from "@voting/api";
import { loadSession, saveSession, type SavedSession } from "./session-store.js";
import { jsonSafe, terminalSafe } from "./format.js";

export interface GlobalArgs {
  json: boolean;
}

export class UsageError extends Error {}
/** A refusal the CLI decides itself, before or without asking a server. */
export class RefusedError extends Error {}

export function addresses(env = process.env) {
  return {
    authAddr: env.AUTH_ADDR || "localhost:50051",
    voteAddr: env.VOTE_ADDR || "localhost:50052",
    tallyAddr: env.TALLY_ADDR || "localhost:50053",
  };
}

let tls: TlsOptions | undefined;

/** With a CA file (--ca or VOTING_CA_FILE) the CLI dials over TLS and verifies the servers; without, plaintext. */
export function useCaFile(file: string | undefined): void {
  if (!file) return;
  try {
    tls = { ca: readFileSync(file) };
  } catch (err) {
    throw new UsageError(`cannot read the CA file ${file}: ${(err as Error).message}`);
  }
}

export function dialsWithTls(): boolean {
  return tls !== undefined;
}

export function newClient(token?: string): VotingClient {
  return createVotingClient({ ...addresses(), token, tls });
}

/** The saved session, refreshed with its refresh token when the access token is about to expire. */
export async function currentSession(): Promise<SavedSession> {
  const s = await loadSession();
  if (!s) throw new RefusedError("not logged in; run: voting login <username> <password>");
  if (Date.parse(s.accessExpiresAt) - Date.now() > 30_000) return s;
  if (Date.parse(s.refreshExpiresAt) <= Date.now()) throw new RefusedError("session expired; run: voting login <username> <password>");
  const client = newClient();
  try {
    const { tokens } = await client.auth.refreshToken({ refreshToken: s.refreshToken });
    const next: SavedSession = {
      ...s,
      accessToken: tokens!.accessToken,
      accessExpiresAt: tokens!.accessTokenExpireTime!.toISOString(),
      refreshToken: tokens!.refreshToken,
      refreshExpiresAt: tokens!.refreshTokenExpireTime!.toISOString(),
    };
    await saveSession(next);
    return next;
  } finally {
    client.close();
  }
}

export function tokenSubject(token: string): number {
  try {
    return Number(decodeJwt(token).sub);
  } catch {
    throw new RefusedError("the token is not a JWT");
  }
}

export function print(args: GlobalArgs, json: unknown, human: string): void {
  process.stdout.write(args.json ? `${jsonSafe(json)}\n` : `${terminalSafe(human)}\n`);
}
