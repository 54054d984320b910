// Access tokens: verification with an algorithm allow-list, and the check (run by the
// server's call interceptor) that authenticates every call and applies the service's role table.
import { status as Status, type Metadata, type ServerInterceptingCallInterface } from "@grpc/grpc-js";
import { errors as joseErrors, type JWTHeaderParameters, type JWTVerifyGetKey } from "jose";
import { JwtRefused, TOKEN_ALGORITHM, verifyEdDSAJwt } from "./jwt-eddsa.js";
import { DomainError, PermissionDeniedError, UnauthenticatedError, type DomainErrorOptions } from "./errors.js";
import { statusOf, type StatusObject } from "./rpc-status.js";
import { verifiedClientCertificate } from "./tls.js";

export const ROLES = ["voter", "candidate", "admin", "service"] as const;
export type Role = (typeof ROLES)[number];

/** Usernames as auth-server stores them, in canonical form (voter rolls hold usernames too). */
export const USERNAME_PATTERN = /^[a-z0-9._-]{3,64}$/;

/**
 * The one form of a username that every store, lookup and limiter uses: NFKC, then lower
 * case, so `Dave`, `DAVE` and fullwidth `Ｄａｖｅ` are all `dave`. USERNAME_PATTERN applies
 * to the result.
 */
export function canonicalUsername(raw: string): string {
  return raw.normalize("NFKC").toLowerCase();
}

export interface Principal {
  userId: number;
  role: Role;
  username: string;
}

/** Token profile shared by issuer and verifiers. */
export const ACCESS_TOKEN_TYPE = "at+jwt";
export const REFRESH_TOKEN_TYPE = "refresh+jwt";
export { TOKEN_ALGORITHM };
export const CLOCK_TOLERANCE_SECONDS = 60;

export interface TokenVerifier {
  /** Resolves to the principal or throws UnauthenticatedError (UnavailableError if keys cannot be fetched). */
  verifyAccessToken(token: string): Promise<Principal>;
}

export interface TokenCheck {
  keys: JWTVerifyGetKey;
  issuer: string;
  audience: string;
  type: string;
}

/** Verifies a JWT strictly: EdDSA only (libsodium checks the signature), typ, iss and aud exact, exp with 60 s leeway. */
export async function verifyToken(token: string, check: TokenCheck): Promise<{ userId: number; role: Role; username: string; jti: string }> {
  return (await verifyWithKey(token, check)).claims;
}

/** verifyToken, also giving the header, the key that verified the token and its expiry. */
async function verifyWithKey(token: string, check: TokenCheck) {
  try {
    const { payload, protectedHeader, key } = await verifyEdDSAJwt(token, {
      ...check,
      clockToleranceSeconds: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ["sub", "exp", "iat", "jti"],
    });
    const userId = Number(payload.sub);
    const role = payload.role as Role;
    if (!Number.isSafeInteger(userId) || userId <= 0 || !ROLES.includes(role) || typeof payload.name !== "string") {
      throw new UnauthenticatedError("token claims are malformed", { reason: "TOKEN_INVALID" });
    }
    return { claims: { userId, role, username: payload.name, jti: payload.jti as string }, header: protectedHeader, key, exp: payload.exp! };
  } catch (err) {
    throw tokenError(err);
  }
}

function tokenError(err: unknown): Error {
  if (err instanceof DomainError) return err;
  if (err instanceof JwtRefused) {
    const message = {
      malformed: "token is malformed",
      algorithm: "token algorithm is not allowed (EdDSA only)",
      signature: "token signature is invalid",
      expired: "token has expired",
      claim: `token ${err.claim === "typ" ? "type" : err.claim} is not accepted here`,
    }[err.kind];
    return new UnauthenticatedError(message, { reason: err.kind === "expired" ? "TOKEN_EXPIRED" : "TOKEN_INVALID" });
  }
  // From the key set: a kid it does not hold, or a JWK it cannot use.
  if (err instanceof joseErrors.JWKSNoMatchingKey) return new UnauthenticatedError("token is signed by an unknown key", { reason: "TOKEN_INVALID" });
  if (err instanceof joseErrors.JOSEError) return new UnauthenticatedError("token is malformed", { reason: "TOKEN_INVALID" });
  return err instanceof Error ? err : new Error(String(err));
}

/** Verified access tokens kept at most (each a few hundred bytes). */
const VERIFIED_CACHE_SIZE = 10_000;

/**
 * Access tokens are verified once: a repeated token is answered from a bounded cache while it
 * is unexpired (with the same leeway) and its kid still resolves to the very key that verified
 * it, so a key removed from the set or replaced refuses it again at once.
 */
export function createTokenVerifier(opts: { keys: JWTVerifyGetKey; issuer: string; audience: string; cacheSize?: number }): TokenVerifier {
  const check: TokenCheck = { ...opts, type: ACCESS_TOKEN_TYPE };
  const maxSize = opts.cacheSize ?? VERIFIED_CACHE_SIZE;
  const verified = new Map<string, { principal: Principal; expiresAt: number; header: JWTHeaderParameters; key: unknown }>();
  const sameKey = async (hit: { header: JWTHeaderParameters; key: unknown }, token: string) => {
    const [, payload, signature] = token.split(".");
    try {
      return (await check.keys(hit.header, { payload, signature })) === hit.key;
    } catch {
      return false;
    }
  };
  return {
    async verifyAccessToken(token) {
      const hit = verified.get(token);
      if (hit) {
        if (Date.now() < hit.expiresAt && (await sameKey(hit, token))) return hit.principal;
        verified.delete(token);
      }
      const { claims, header, key, exp } = await verifyWithKey(token, check);
      const principal = { userId: claims.userId, role: claims.role, username: claims.username };
      if (maxSize > 0) {
        // Oldest first out: a Map iterates in insertion order.
        if (verified.size >= maxSize) verified.delete(verified.keys().next().value!);
        verified.set(token, { principal, expiresAt: (exp + CLOCK_TOLERANCE_SECONDS) * 1000, header, key });
      }
      return principal;
    },
  };
}

/**
 * Who may call an RPC: everyone; callers with a valid token and one of these roles; or
 * "service-peer": no token needed (the RPC authenticates its caller itself, as one that hands
 * out service tokens must), but with TLS on only callers with a service's client certificate.
 */
export type AccessRule = "public" | "service-peer" | readonly Role[];
/** Full method path ("/pkg.Service/Method") to rule; one table per service. */
export type AccessTable = Readonly<Record<string, AccessRule>>;

// The interceptor hands the handler the very Metadata object it checked, so a WeakMap
// keyed by it carries the principal without anything a client could forge.
const principals = new WeakMap<Metadata, Principal>();

export function principalOf(metadata: Metadata): Principal | undefined {
  return principals.get(metadata);
}

const INFRASTRUCTURE = /^\/grpc\.(health|reflection)\./;

export function bearerToken(metadata: Metadata): string | undefined {
  const value = metadata.get("authorization")[0];
  if (typeof value !== "string") return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(value.trim());
  return m ? m[1] : "";
}

export interface AuthInterceptorOptions {
  /** TLS is on: a service token, or a call to a "service-peer" RPC, needs a client certificate of the CA. */
  serviceNeedsClientCertificate?: boolean;
}

/**
 * Authenticates one call from its metadata and applies the role table: calls `forward` to let
 * it run, or `sendStatus` with the refusal. The server's call interceptor runs it.
 */
export type Authorize = (path: string, call: ServerInterceptingCallInterface, metadata: Metadata, forward: (metadata: Metadata) => void, sendStatus: (status: StatusObject) => void) => void;

export function createAuthorizer(table: AccessTable, verifier: TokenVerifier, opts: AuthInterceptorOptions = {}): Authorize {
  // A path's rule, looked up once (only served methods reach interceptors, so this stays small).
  const rules = new Map<string, AccessRule | undefined>();
  const ruleOf = (path: string) => {
    if (!rules.has(path)) rules.set(path, INFRASTRUCTURE.test(path) ? "public" : table[path]);
    return rules.get(path);
  };
  return (path, call, metadata, forward, sendStatus) => {
    const rule = ruleOf(path);
    const refuse = (err: DomainError) => sendStatus(statusOf(err));
    const unauthenticated = (message: string, opts: DomainErrorOptions) => refuse(new UnauthenticatedError(message, opts));
    if (rule === undefined) return sendStatus({ code: Status.UNIMPLEMENTED, details: `unknown method ${path}` });
    if (rule === "service-peer" && opts.serviceNeedsClientCertificate && !verifiedClientCertificate(call)) {
      return unauthenticated("this call needs a service's client certificate (mTLS)", { reason: "CLIENT_CERTIFICATE_REQUIRED" });
    }
    const token = bearerToken(metadata);
    if (token === undefined) {
      if (typeof rule === "string") return forward(metadata);
      return unauthenticated("this call needs a bearer token in the authorization metadata", { reason: "TOKEN_REQUIRED" });
    }
    if (token === "") return unauthenticated("authorization metadata must be 'Bearer <token>'", { reason: "TOKEN_INVALID" });
    verifier.verifyAccessToken(token).then(
      (principal) => {
        // A service token alone could be replayed by whoever obtained it; over TLS it also needs the service's key.
        if (principal.role === "service" && opts.serviceNeedsClientCertificate && !verifiedClientCertificate(call)) {
          return unauthenticated("a service token is accepted only with a service's client certificate (mTLS)", { reason: "CLIENT_CERTIFICATE_REQUIRED" });
        }
        // Set before the role check so that the access log names whoever was refused.
        principals.set(metadata, principal);
        if (typeof rule !== "string" && !rule.includes(principal.role)) {
          const rpc = path.slice(path.lastIndexOf("/") + 1);
          return refuse(new PermissionDeniedError(`role ${principal.role} may not call ${rpc}`, { reason: "ROLE_NOT_ALLOWED", metadata: { role: principal.role, method: rpc } }));
        }
        forward(metadata);
      },
      (err: unknown) =>
        err instanceof DomainError ? refuse(err) : unauthenticated("token could not be verified", { reason: "TOKEN_INVALID" }),
    );
  };
}
