import { USERNAME_PATTERN, AlreadyExistsError, InvalidArgumentError, NotFoundError, PermissionDeniedError, ResourceExhaustedError, UnauthenticatedError, type Principal } from "@voting/server-kit";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { UsernameTakenError, type UserRepository } from "../db/user-repository.js";
import type { PasswordHasher } from "./passwords.js";
import type { TokenIssuer, TokenPair } from "./tokens.js";

export type Role = Principal["role"];

export interface User {
  id: number;
  username: string;
  role: Role;
  createdAt: Date;
}

export interface UserWithHash extends User {
  passwordHash: string;
}

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 1024;
/** Usernames of the service accounts; nobody can register under this prefix. */
export const SERVICE_ACCOUNT_PREFIX = "svc-";
export const SERVICE_ACCOUNTS = ["svc-vote", "svc-tally"] as const;
export const REGISTRABLE_ROLES: readonly Role[] = ["voter", "candidate"];

const LOGIN_FAILED = "invalid username or password";

export function checkUsername(username: string): string {
  if (!USERNAME_PATTERN.test(username)) {
    throw new InvalidArgumentError("username must be 3 to 64 characters from a-z, A-Z, 0-9, '.', '_' and '-'");
  }
  return username;
}

export function checkPassword(password: string): string {
  const length = [...password].length;
  if (length < PASSWORD_MIN || length > PASSWORD_MAX) {
    throw new InvalidArgumentError(`password must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters`);
  }
  return password;
}

export interface UserServiceDeps {
  users: UserRepository;
  hasher: PasswordHasher;
  tokens: TokenIssuer;
  limits: { maxFailuresPerUser: number; maxAttemptsPerPeer: number };
}

export function userService({ users, hasher, tokens, limits }: UserServiceDeps) {
  const failuresPerUser = new RateLimiterMemory({ points: limits.maxFailuresPerUser, duration: 15 * 60 });
  const attemptsPerPeer = new RateLimiterMemory({ points: limits.maxAttemptsPerPeer, duration: 60 });

  const tooMany = (err: unknown, what: string): never => {
    if (err instanceof RateLimiterRes) {
      throw new ResourceExhaustedError(`too many ${what}; try again in ${Math.ceil(err.msBeforeNext / 1000)} s`);
    }
    throw err;
  };

  return {
    async register(input: { username: string; password: string; role: Role }): Promise<User> {
      if (!REGISTRABLE_ROLES.includes(input.role)) throw new InvalidArgumentError("role must be voter or candidate");
      if (input.username.toLowerCase().startsWith(SERVICE_ACCOUNT_PREFIX)) {
        throw new InvalidArgumentError(`usernames starting with "${SERVICE_ACCOUNT_PREFIX}" are reserved`);
      }
      const passwordHash = await hasher.hash(input.password);
      try {
        return await users.insert({ username: input.username, passwordHash, role: input.role });
      } catch (err) {
        if (err instanceof UsernameTakenError) throw new AlreadyExistsError(`username ${input.username} is taken`);
        throw err;
      }
    },

    async login(input: { username: string; password: string; peer: string }): Promise<{ user: User; tokens: TokenPair }> {
      await attemptsPerPeer.consume(input.peer).catch((err) => tooMany(err, "login attempts from this address"));
      const blocked = await failuresPerUser.get(input.username);
      if (blocked && blocked.remainingPoints <= 0) tooMany(blocked, "failed logins for this user");
      const found = await users.findByUsername(input.username);
      const ok = found ? await hasher.verify(found.passwordHash, input.password) : (await hasher.verifyDummy(input.password), false);
      if (!found || !ok) {
        await failuresPerUser.consume(input.username).catch(() => undefined);
        throw new UnauthenticatedError(LOGIN_FAILED);
      }
      await failuresPerUser.delete(input.username);
      const { passwordHash: _, ...user } = found;
      return { user, tokens: await tokens.issue(user) };
    },

    async refresh(refreshToken: string): Promise<TokenPair> {
      return tokens.rotate(refreshToken, async (userId) => {
        const user = await users.findById(userId);
        if (!user) throw new UnauthenticatedError("the user of this refresh token no longer exists");
        return user;
      });
    },

    async getUser(caller: Principal, id: number): Promise<User> {
      const user = await users.findById(id);
      const privileged = caller.role === "admin" || caller.role === "service";
      if (!privileged && id !== caller.userId && user?.role !== "candidate") {
        throw new PermissionDeniedError(`role ${caller.role} may read only itself and candidates`);
      }
      if (!user) throw new NotFoundError(`user ${id} not found`);
      return user;
    },

    async listUsers(caller: Principal, q: { role?: Role; afterId: number; limit: number }): Promise<{ users: User[]; lastId?: number }> {
      const privileged = caller.role === "admin" || caller.role === "service";
      if (!privileged && q.role !== "candidate") throw new PermissionDeniedError(`role ${caller.role} may list only candidates`);
      const page = await users.list({ ...q, limit: q.limit + 1 });
      const more = page.length > q.limit;
      const shown = more ? page.slice(0, q.limit) : page;
      return { users: shown, lastId: more ? shown[shown.length - 1].id : undefined };
    },

    async ensureServiceAccounts(password: string): Promise<void> {
      const hash = await hasher.hash(password);
      for (const name of SERVICE_ACCOUNTS) {
        if (!(await users.upsertPrivileged(name, hash, "service"))) throw new Error(`${name} exists and is not a service account`);
      }
    },

    /** The explicit admin bootstrap: the account named in the configuration, nobody else. */
    async ensureAdmin(username: string, password: string): Promise<void> {
      checkUsername(username);
      checkPassword(password);
      if (username.toLowerCase().startsWith(SERVICE_ACCOUNT_PREFIX)) throw new InvalidArgumentError(`usernames starting with "${SERVICE_ACCOUNT_PREFIX}" are reserved`);
      if (!(await users.upsertPrivileged(username, await hasher.hash(password), "admin"))) {
        throw new InvalidArgumentError(`${username} exists and is not an admin; choose another VOTING_ADMIN_USERNAME`);
      }
    },
  };
}

export type UserService = ReturnType<typeof userService>;
