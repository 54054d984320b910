// Service tokens for client assertions (RFC 7523 style): a service proves it holds its
// account's Ed25519 key by signing a short-lived JWT; each assertion is good once.
import { ASSERTION_MAX_LIFETIME_SECONDS, CLOCK_TOLERANCE_SECONDS, PermissionDeniedError, TOKEN_ALGORITHM, UnauthenticatedError } from "@voting/server-kit";
import { decodeProtectedHeader, errors as joseErrors, jwtVerify } from "jose";
import type { KeyObject } from "node:crypto";
import type { UserRepository } from "../db/user-repository.js";
import type { TokenIssuer } from "./tokens.js";

export interface AssertionLedger {
  /** Records the assertion id until it expires; false if it was recorded before. */
  firstUse(id: string, expiresAt: number): Promise<boolean>;
}

export interface ServiceTokenDeps {
  /** Account name -> public key. */
  publicKeys: Map<string, KeyObject>;
  /** auth-server's issuer name: the audience of assertions. */
  issuer: string;
  users: UserRepository;
  tokens: TokenIssuer;
  ledger: AssertionLedger;
  /** Account -> the name its client certificate must carry (CN or DNS SAN), when TLS is on. */
  certNames: Map<string, string>;
}

const refused = (why: string) => new UnauthenticatedError(`client assertion refused: ${why}`, { reason: "ASSERTION_REFUSED" });

export function serviceTokens({ publicKeys, issuer, users, tokens, ledger, certNames }: ServiceTokenDeps) {
  async function verify(assertion: string): Promise<{ account: string; jti: string; exp: number }> {
    let account: string | undefined;
    try {
      account = decodeProtectedHeader(assertion).kid;
    } catch {
      throw refused("not a JWT");
    }
    const key = account === undefined ? undefined : publicKeys.get(account);
    if (!account || !key) throw refused("unknown service account");
    try {
      const { payload } = await jwtVerify(assertion, key, {
        algorithms: [TOKEN_ALGORITHM],
        issuer: account,
        subject: account,
        audience: issuer,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ["iss", "sub", "aud", "exp", "iat", "jti"],
      });
      const { exp, iat, jti } = payload as { exp: number; iat: number; jti: unknown };
      if (exp - iat > ASSERTION_MAX_LIFETIME_SECONDS) throw refused(`lifetime over ${ASSERTION_MAX_LIFETIME_SECONDS} s`);
      if (iat * 1000 > Date.now() + CLOCK_TOLERANCE_SECONDS * 1000) throw refused("issued in the future");
      if (typeof jti !== "string" || jti.length === 0 || jti.length > 128) throw refused("jti must be 1 to 128 characters");
      return { account, jti, exp };
    } catch (err) {
      if (err instanceof UnauthenticatedError) throw err;
      if (err instanceof joseErrors.JWTExpired) throw refused("expired");
      if (err instanceof joseErrors.JWSSignatureVerificationFailed) throw refused("signature is invalid");
      if (err instanceof joseErrors.JWTClaimValidationFailed) throw refused(`claim ${err.claim} is not accepted`);
      if (err instanceof joseErrors.JOSEError) throw refused("malformed");
      throw err;
    }
  }

  return {
    /** callerNames: the verified client certificate's names, or undefined without TLS. */
    async issue(assertion: string, callerNames: string[] | undefined): Promise<{ accessToken: string; expiresAt: Date }> {
      const { account, jti, exp } = await verify(assertion);
      // Any server of the CA could otherwise speak for any account whose key it got hold of.
      if (callerNames !== undefined) {
        const needed = certNames.get(account);
        if (needed === undefined || !callerNames.includes(needed)) {
          throw new PermissionDeniedError(`${account} needs a client certificate naming ${needed ?? "(no name configured in SERVICE_CERT_NAMES)"}`, { reason: "CLIENT_CERTIFICATE_REQUIRED" });
        }
      }
      if (!(await ledger.firstUse(`${account}:${jti}`, (exp + CLOCK_TOLERANCE_SECONDS) * 1000))) throw refused("already used (replay)");
      const user = await users.findByUsername(account);
      if (!user || user.role !== "service") throw refused("unknown service account");
      const { passwordHash: _, ...u } = user;
      // Only the access token leaves: a service signs a new assertion instead of refreshing.
      const pair = await tokens.issue(u);
      return { accessToken: pair.accessToken, expiresAt: pair.accessExpiresAt };
    },
  };
}

export type ServiceTokens = ReturnType<typeof serviceTokens>;
