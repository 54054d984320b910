// Sessions live in this process only: the browser holds an opaque random id in an HttpOnly
// cookie; the access and refresh tokens stay here and never reach a page.
import { randomBytes } from "node:crypto";
import { roleName, type VotingClient, type voteV1 } from "@voting/client";

export interface Session {
  userId: number;
  username: string;
  role: string;
  accessToken: string;
  accessExpires: number;
  refreshToken: string;
  refreshExpires: number;
  /** Receipts of the ballots cast in this session, by tracking code, for the receipt page and its download. */
  receipts: Map<string, voteV1.Receipt>;
  lastUsed: number;
  /** A refresh under way, shared by concurrent requests (a refresh token is spent once). */
  refreshing?: Promise<string>;
}

const MAX_SESSIONS = 100_000;
const IDLE_MS = 12 * 60 * 60 * 1000;

export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly client: VotingClient) {}

  async login(username: string, password: string): Promise<{ id: string; session: Session }> {
    const { user, tokens } = await this.client.auth.login({ username, password });
    this.sweep();
    const id = randomBytes(32).toString("base64url");
    const session: Session = {
      userId: user!.id,
      username: user!.username,
      role: roleName(user!.role) ?? "unknown",
      accessToken: tokens!.accessToken,
      accessExpires: tokens!.accessTokenExpireTime?.getTime() ?? 0,
      refreshToken: tokens!.refreshToken,
      refreshExpires: tokens!.refreshTokenExpireTime?.getTime() ?? 0,
      receipts: new Map(),
      lastUsed: Date.now(),
    };
    this.sessions.set(id, session);
    return { id, session };
  }

  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s || Date.now() - s.lastUsed > IDLE_MS || s.refreshExpires <= Date.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    s.lastUsed = Date.now();
    return s;
  }

  /** The session's access token, refreshed when it is about to expire. */
  async token(s: Session): Promise<string> {
    if (s.accessExpires - Date.now() > 30_000) return s.accessToken;
    return (s.refreshing ??= this.refresh(s).finally(() => (s.refreshing = undefined)));
  }

  private async refresh(s: Session): Promise<string> {
    const { tokens } = await this.client.auth.refreshToken({ refreshToken: s.refreshToken });
    s.accessToken = tokens!.accessToken;
    s.accessExpires = tokens!.accessTokenExpireTime?.getTime() ?? 0;
    s.refreshToken = tokens!.refreshToken;
    s.refreshExpires = tokens!.refreshTokenExpireTime?.getTime() ?? 0;
    return s.accessToken;
  }

  end(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  private sweep(): void {
    if (this.sessions.size < MAX_SESSIONS) return;
    const now = Date.now();
    for (const [id, s] of this.sessions) if (now - s.lastUsed > IDLE_MS) this.sessions.delete(id);
    // Still full: drop the oldest (Map keeps insertion order).
    while (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
  }
}
