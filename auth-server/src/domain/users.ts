import { canonicalUsername, SERVICE_ACCOUNT_PREFIX, SERVICE_ACCOUNTS, USERNAME_PATTERN, AlreadyExistsError, InvalidArgumentError, NotFoundError, PermissionDeniedError, UnauthenticatedError, type Principal } from "@voting/server-kit";
import { UsernameTakenError, type UserRepository } from "../db/user-repository.js";
import type { LoginGate } from "./login-limits.js";
import { HashQueueFullError } from "./hash-limit.js";
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
/** Stored as the service accounts' password hash: not an argon2 hash, so no password matches. */
const NO_PASSWORD = "!no-password: authenticates with a client assertion";
export const REGISTRABLE_ROLES: readonly Role[] = ["voter", "candidate"];

const LOGIN_FAILED = "invalid username or password";

/** The canonical form of a username (see canonicalUsername), or INVALID_ARGUMENT. */
export function checkUsername(raw: string): string {
  const username = raw.length <= 256 ? canonicalUsername(raw) : raw;
  if (!USERNAME_PATTERN.test(username)) {
    throw new InvalidArgumentError("username must be 3 to 64 characters from a-z, A-Z, 0-9, '.', '_' and '-'", { field: "username", reason: "INVALID_USERNAME" });
  }
  return username;
}

const isServiceName = (username: string) => username.startsWith(SERVICE_ACCOUNT_PREFIX);

export function checkPassword(password: string): string {
  const length = [...password].length;
  if (length < PASSWORD_MIN || length > PASSWORD_MAX) {
    throw new InvalidArgumentError(`password must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters`, { field: "password", reason: "INVALID_PASSWORD" });
  }
  return password;
}

export interface UserServiceDeps {
  users: UserRepository;
  hasher: PasswordHasher;
  tokens: TokenIssuer;
  limits: LoginGate;
}

/** `p`; when the hash queue refused it, `giveBack` first returns the attempt admitted for it. */
async function orGiveBack<T>(p: Promise<T>, giveBack: () => Promise<void>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof HashQueueFullError) await giveBack();
    throw err;
  }
}

export function userService({ users, hasher, tokens, limits }: UserServiceDeps) {
  return {
    /** `input.username` is canonical (checkUsername). */
    async register(input: { username: string; password: string; role: Role; peer: string }): Promise<User> {
      if (!REGISTRABLE_ROLES.includes(input.role)) throw new InvalidArgumentError("role must be voter or candidate", { field: "role" });
      if (isServiceName(input.username)) {
        throw new InvalidArgumentError(`usernames starting with "${SERVICE_ACCOUNT_PREFIX}" are reserved`, { field: "username", reason: "USERNAME_RESERVED" });
      }
      await limits.admitRegister(input.peer);
      const passwordHash = await orGiveBack(hasher.hash(input.password), () => limits.withdrawRegister(input.peer));
      try {
        return await users.insert({ username: input.username, passwordHash, role: input.role });
      } catch (err) {
        if (err instanceof UsernameTakenError) throw new AlreadyExistsError(`username ${input.username} is taken`, { reason: "USERNAME_TAKEN" });
        throw err;
      }
    },

    async login(input: { username: string; password: string; peer: string }): Promise<{ user: User; tokens: TokenPair }> {
      const username = canonicalUsername(input.username);
      // Service accounts have no password: refused like a wrong one, counted against nothing
      // but the caller's own address, so no guesser can touch the services' standing.
      if (isServiceName(username) || !USERNAME_PATTERN.test(username)) {
        await limits.admit(undefined, input.peer);
        await orGiveBack(hasher.verifyDummy(input.password), () => limits.withdraw(undefined, input.peer));
        throw new UnauthenticatedError(LOGIN_FAILED, { reason: "LOGIN_FAILED" });
      }
      await limits.admit(username, input.peer);
      const found = await users.findByUsername(username);
      const check = found ? hasher.verify(found.passwordHash, input.password) : hasher.verifyDummy(input.password).then(() => false);
      const ok = await orGiveBack(check, () => limits.withdraw(username, input.peer));
      if (!found || !ok) {
        await limits.failed(username, input.peer);
        throw new UnauthenticatedError(LOGIN_FAILED, { reason: "LOGIN_FAILED" });
      }
      await limits.succeeded(username, input.peer);
      const { passwordHash: _, ...user } = found;
      return { user, tokens: await tokens.issue(user) };
    },

    async refresh(refreshToken: string): Promise<TokenPair> {
      return tokens.rotate(refreshToken, async (userId) => {
        const user = await users.findById(userId);
        if (!user) throw new UnauthenticatedError("the user of this refresh token no longer exists", { reason: "REFRESH_TOKEN_INVALID" });
        return user;
      });
    },

    async getUser(caller: Principal, id: number): Promise<User> {
      const user = await users.findById(id);
      const privileged = caller.role === "admin" || caller.role === "service";
      if (!privileged && id !== caller.userId && user?.role !== "candidate") {
        throw new PermissionDeniedError(`role ${caller.role} may read only itself and candidates`, { reason: "ROLE_NOT_ALLOWED" });
      }
      if (!user) throw new NotFoundError(`user ${id} not found`, { reason: "USER_NOT_FOUND" });
      return user;
    },

    async listUsers(caller: Principal, q: { role?: Role; afterId: number; limit: number }): Promise<{ users: User[]; lastId?: number }> {
      const privileged = caller.role === "admin" || caller.role === "service";
      if (!privileged && q.role !== "candidate") throw new PermissionDeniedError(`role ${caller.role} may list only candidates`, { reason: "ROLE_NOT_ALLOWED" });
      const page = await users.list({ ...q, limit: q.limit + 1 });
      const more = page.length > q.limit;
      const shown = more ? page.slice(0, q.limit) : page;
      return { users: shown, lastId: more ? shown[shown.length - 1].id : undefined };
    },

    /** The service accounts exist, with no usable password (they sign client assertions). */
    async ensureServiceAccounts(): Promise<void> {
      for (const name of SERVICE_ACCOUNTS) {
        if (!(await users.upsertPrivileged(name, NO_PASSWORD, "service"))) throw new Error(`${name} exists and is not a service account`);
      }
    },

    /** The explicit admin bootstrap: the account named in the configuration, nobody else. Returns its canonical name. */
    async ensureAdmin(rawUsername: string, password: string): Promise<string> {
      const username = checkUsername(rawUsername);
      checkPassword(password);
      if (isServiceName(username)) throw new InvalidArgumentError(`usernames starting with "${SERVICE_ACCOUNT_PREFIX}" are reserved`, { field: "username", reason: "USERNAME_RESERVED" });
      if (!(await users.upsertPrivileged(username, await hasher.hash(password), "admin"))) {
        throw new InvalidArgumentError(`${username} exists and is not an admin; choose another VOTING_ADMIN_USERNAME`);
      }
      return username;
    },
  };
}

export type UserService = ReturnType<typeof userService>;
