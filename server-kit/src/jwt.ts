// Verification of the one token profile used here (compact JWS, EdDSA over Ed25519) with
// node:crypto's one-shot verify. jose 6 verifies through WebCrypto, an asynchronous job that
// costs two to three times the CPU per token, and every authenticated call verifies one;
// jose still finds the keys (JWKS) and signs. The checks and their order follow jose's
// jwtVerify with algorithms [EdDSA], typ, issuer, audience, clockTolerance, requiredClaims.
import { KeyObject, verify } from "node:crypto";
import { errors as joseErrors, type JWTVerifyGetKey } from "jose";
import { RpcError, UnauthenticatedError } from "./errors.js";

export interface JwtCheck {
  keys: JWTVerifyGetKey;
  issuer: string;
  audience: string;
  /** Expected `typ` header, compared as jose does (case-insensitive, without "application/"). */
  type: string;
  clockToleranceSeconds: number;
  requiredClaims: readonly string[];
}

export interface VerifiedJwt {
  header: { alg: string; kid?: string; typ?: string };
  payload: Record<string, unknown>;
  /** The key that verified the signature, as the key lookup returned it. */
  key: unknown;
}

const SEGMENT = /^[A-Za-z0-9_-]*$/;
const malformed = () => new UnauthenticatedError("token is malformed");
const notAccepted = (claim: string) => new UnauthenticatedError(`token ${claim} is not accepted here`);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const normalizeTyp = (t: string) => t.toLowerCase().replace(/^application\//, "");

function decodeJson(segment: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
  } catch {
    throw malformed();
  }
  if (!isObject(value)) throw malformed();
  return value;
}

// Key sets hand out WebCrypto keys; node:crypto's verify wants KeyObjects (converted once per key).
const converted = new WeakMap<CryptoKey, KeyObject>();

function ed25519KeyObject(key: unknown): KeyObject | undefined {
  let k: KeyObject | undefined;
  if (key instanceof KeyObject) k = key;
  else if (key instanceof CryptoKey) {
    k = converted.get(key);
    if (!k) converted.set(key, (k = KeyObject.from(key)));
  }
  return k?.asymmetricKeyType === "ed25519" ? k : undefined;
}

/** The key for a header, with jose's key-set errors as UNAUTHENTICATED (others, e.g. UNAVAILABLE, as they are). */
export async function lookUpKey(keys: JWTVerifyGetKey, header: VerifiedJwt["header"], token: string): Promise<unknown> {
  const [, payload, signature] = token.split(".");
  try {
    return await keys(header, { payload, signature });
  } catch (err) {
    if (err instanceof RpcError) throw err;
    if (err instanceof joseErrors.JWKSNoMatchingKey) throw new UnauthenticatedError("token is signed by an unknown key");
    if (err instanceof joseErrors.JOSEError) throw malformed();
    throw err;
  }
}

/** Verifies signature and claims; throws UnauthenticatedError saying what is wrong. */
export async function verifyJwt(token: string, check: JwtCheck): Promise<VerifiedJwt> {
  const parts = token.split(".");
  if (parts.length !== 3 || !parts.every((p) => SEGMENT.test(p))) throw malformed();
  const header = decodeJson(parts[0]);
  if (header.crit !== undefined || header.b64 !== undefined) throw malformed();
  if (header.alg !== "EdDSA") throw new UnauthenticatedError("token algorithm is not allowed (EdDSA only)");
  if (header.kid !== undefined && typeof header.kid !== "string") throw malformed();
  const h = header as VerifiedJwt["header"];
  const key = await lookUpKey(check.keys, h, token);
  const keyObject = ed25519KeyObject(key);
  if (!keyObject) throw new UnauthenticatedError("token is signed by an unknown key");
  const signature = Buffer.from(parts[2], "base64url");
  if (signature.length !== 64 || !verify(null, Buffer.from(`${parts[0]}.${parts[1]}`), keyObject, signature)) {
    throw new UnauthenticatedError("token signature is invalid");
  }
  const payload = decodeJson(parts[1]);
  if (typeof h.typ !== "string" || normalizeTyp(h.typ) !== normalizeTyp(check.type)) throw new UnauthenticatedError("token type is not accepted here");
  for (const claim of [...new Set([...check.requiredClaims, "aud", "iss"].reverse())]) {
    if (!Object.hasOwn(payload, claim)) throw notAccepted(claim);
  }
  if (payload.iss !== check.issuer) throw notAccepted("iss");
  const aud = payload.aud;
  if (!(aud === check.audience || (Array.isArray(aud) && aud.includes(check.audience)))) throw notAccepted("aud");
  const now = Math.floor(Date.now() / 1000);
  const tolerance = check.clockToleranceSeconds;
  for (const claim of ["iat", "nbf", "exp"]) {
    if (payload[claim] !== undefined && typeof payload[claim] !== "number") throw notAccepted(claim);
  }
  if (typeof payload.nbf === "number" && payload.nbf > now + tolerance) throw notAccepted("nbf");
  if (typeof payload.exp === "number" && payload.exp <= now - tolerance) throw new UnauthenticatedError("token has expired");
  return { header: h, payload, key };
}
