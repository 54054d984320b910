// The edge of auth-server: parses requests, calls the domain, maps results to proto.
import { authV1, roleEnum, roleName } from "@voting/api";
import { checkText, decodePageToken, encodePageToken, InvalidArgumentError, toProtoJwk, UnauthenticatedError, unary, type CallContext, type Logger, type Principal } from "@voting/server-kit";
import { checkPassword, checkUsername, type Role, type User, type UserService } from "../domain/users.js";
import type { TokenIssuer, TokenPair } from "../domain/tokens.js";
import type { ServiceTokens } from "../domain/service-tokens.js";

const roleFromProto = (role: authV1.Role): Role | undefined => roleName(role);

const toProtoUser = (u: User): authV1.User => ({ id: u.id, username: u.username, role: roleEnum(u.role), createTime: u.createdAt });

const toProtoTokens = (t: TokenPair): authV1.TokenPair => ({
  accessToken: t.accessToken,
  accessTokenExpireTime: t.accessExpiresAt,
  refreshToken: t.refreshToken,
  refreshTokenExpireTime: t.refreshExpiresAt,
});

function caller(ctx: CallContext): Principal {
  if (!ctx.principal) throw new UnauthenticatedError("this call needs a bearer token", { reason: "TOKEN_REQUIRED" });
  return ctx.principal;
}

function parseRegister(req: authV1.RegisterRequest, peer: string) {
  const role = roleFromProto(req.role);
  if (role !== "voter" && role !== "candidate") throw new InvalidArgumentError("role must be ROLE_VOTER or ROLE_CANDIDATE", { field: "role" });
  return { username: checkUsername(checkText(req.username, "username")), password: checkPassword(req.password), role, peer };
}

function parseLogin(req: authV1.LoginRequest, peer: string) {
  // Over-long input is refused before any hashing; wrong shapes get the same answer as wrong passwords.
  if (req.username.length > 64 || req.password.length > 4 * 1024) throw new InvalidArgumentError("username or password too long", { field: req.username.length > 64 ? "username" : "password" });
  return { username: req.username, password: req.password, peer };
}

function parseListUsers(req: authV1.ListUsersRequest) {
  const afterId = decodePageToken(req.pageToken);
  if (afterId === undefined) throw new InvalidArgumentError("page_token is not one this server issued", { field: "page_token", reason: "INVALID_PAGE_TOKEN" });
  if (req.pageSize > 1000) throw new InvalidArgumentError("page_size must be at most 1000", { field: "page_size" });
  const role = req.role === authV1.Role.ROLE_UNSPECIFIED ? undefined : roleFromProto(req.role);
  if (req.role !== authV1.Role.ROLE_UNSPECIFIED && !role) throw new InvalidArgumentError(`unknown role ${req.role}`, { field: "role" });
  return { role, afterId, limit: req.pageSize === 0 ? 100 : req.pageSize };
}

export function authServiceImpl(users: UserService, tokens: TokenIssuer, services: ServiceTokens, log: Logger): authV1.AuthServiceServer {
  return {
    register: unary(log, async (req: authV1.RegisterRequest, ctx) => ({ user: toProtoUser(await users.register(parseRegister(req, ctx.peer))) })),
    login: unary(log, async (req: authV1.LoginRequest, ctx) => {
      const { user, tokens: pair } = await users.login(parseLogin(req, ctx.peer));
      return { user: toProtoUser(user), tokens: toProtoTokens(pair) };
    }),
    refreshToken: unary(log, async (req: authV1.RefreshTokenRequest) => {
      if (req.refreshToken === "") throw new InvalidArgumentError("refresh_token is required", { field: "refresh_token" });
      return { tokens: toProtoTokens(await users.refresh(req.refreshToken)) };
    }),
    getUser: unary(log, async (req: authV1.GetUserRequest, ctx) => {
      if (req.id === 0) throw new InvalidArgumentError("id is required", { field: "id" });
      return { user: toProtoUser(await users.getUser(caller(ctx), req.id)) };
    }),
    listUsers: unary(log, async (req: authV1.ListUsersRequest, ctx) => {
      const page = await users.listUsers(caller(ctx), parseListUsers(req));
      return { users: page.users.map(toProtoUser), nextPageToken: page.lastId === undefined ? "" : encodePageToken(page.lastId) };
    }),
    getJwks: unary(log, async () => ({ keys: tokens.publicKeys().map(toProtoJwk) })),
    issueServiceToken: unary(log, async (req: authV1.IssueServiceTokenRequest, ctx) => {
      if (req.assertion === "") throw new InvalidArgumentError("assertion is required", { field: "assertion" });
      if (req.assertion.length > 4 * 1024) throw new InvalidArgumentError("assertion is too long", { field: "assertion" });
      const t = await services.issue(req.assertion, ctx.certificateNames);
      return { accessToken: t.accessToken, accessTokenExpireTime: t.expiresAt };
    }),
  };
}
