// Compact EdDSA (Ed25519) JWT verification with libsodium's signature check (sodium-native):
// 53 µs a token on this machine where OpenSSL's, behind node:crypto, WebCrypto and so jose,
// takes 109 µs, and every vote carries a token not seen before (BENCHMARKS.md, "libsodium").
// The checks are jose's jwtVerify with the options auth.ts used to pass it, only stricter where
// noted; keys still come from jose (createLocalJWKSet) and tokens are still issued by jose.
import { KeyObject } from "node:crypto";
import sodium from "sodium-native";
import type { JWTHeaderParameters, JWTPayload, JWTVerifyGetKey } from "jose";

/** Why a token is refused; `claim` names the claim (or "typ") that failed. */
export class JwtRefused extends Error {
  constructor(
    readonly kind: "malformed" | "algorithm" | "signature" | "expired" | "claim",
    readonly claim?: string,
  ) {
    super(claim ? `${kind}: ${claim}` : kind);
  }
}

export interface JwtCheck {
  keys: JWTVerifyGetKey;
  issuer: string;
  audience: string;
  /** The header's typ (compared as jose does: case-insensitive, "application/" implied). */
  type: string;
  clockToleranceSeconds: number;
  /** Claims that must be present besides iss and aud. */
  requiredClaims: readonly string[];
}

/** The one JWS algorithm tokens are signed and verified with (auth.ts re-exports it for signers). */
export const TOKEN_ALGORITHM = "EdDSA";

const SEGMENT = /^[A-Za-z0-9_-]+$/;
const utf8 = new TextDecoder("utf-8", { fatal: true });
/** The raw 32-byte public key of each key object the key set hands out (it reuses them). */
const rawKeys = new WeakMap<object, Buffer>();

function jsonObject(segment: string): Record<string, unknown> {
  const bytes = Buffer.from(segment, "base64url");
  // Buffer drops a lone last character that jose refuses: only the one canonical spelling passes.
  if (bytes.toString("base64url") !== segment) throw new JwtRefused("malformed");
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch {
    throw new JwtRefused("malformed");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new JwtRefused("malformed");
  return value as Record<string, unknown>;
}

function rawPublicKey(key: unknown): Buffer {
  if (typeof key !== "object" || key === null) throw new JwtRefused("malformed");
  let raw = rawKeys.get(key);
  if (!raw) {
    let object: KeyObject;
    try {
      // As jose: a CryptoKey must be an Ed25519 key allowed to verify.
      if (key instanceof CryptoKey && (key.algorithm.name !== "Ed25519" || !key.usages.includes("verify"))) throw new JwtRefused("algorithm");
      object = key instanceof KeyObject ? key : KeyObject.from(key as CryptoKey);
    } catch (err) {
      if (err instanceof JwtRefused) throw err;
      throw new JwtRefused("malformed");
    }
    if (object.type !== "public" || object.asymmetricKeyType !== "ed25519") throw new JwtRefused("algorithm");
    raw = Buffer.from(object.export({ format: "jwk" }).x!, "base64url");
    rawKeys.set(key, raw);
  }
  return raw;
}

const normalTyp = (t: string) => (t.includes("/") ? t.toLowerCase() : `application/${t.toLowerCase()}`);

/**
 * The verified header, claims and key of a compact JWS signed with EdDSA, or JwtRefused.
 * Errors of check.keys (no such kid, keys unavailable) pass through unchanged.
 */
export async function verifyEdDSAJwt(token: string, check: JwtCheck): Promise<{ protectedHeader: JWTHeaderParameters; payload: JWTPayload; key: unknown }> {
  const parts = token.split(".");
  if (parts.length !== 3) throw new JwtRefused("malformed");
  const [h, p, s] = parts;
  // Stricter than jose: base64url without padding or whitespace, and each segment in its one canonical spelling.
  if (!SEGMENT.test(h) || !SEGMENT.test(p) || !SEGMENT.test(s)) throw new JwtRefused("malformed");
  const header = jsonObject(h) as JWTHeaderParameters;
  if (typeof header.alg !== "string" || header.alg === "") throw new JwtRefused("malformed");
  if (header.alg !== TOKEN_ALGORITHM) throw new JwtRefused("algorithm");
  // Stricter than jose: no critical extensions at all (the issuer never sets one).
  if (header.crit !== undefined) throw new JwtRefused("malformed");
  const key = await check.keys(header, { payload: p, signature: s });
  const publicKey = rawPublicKey(key);
  const signature = Buffer.from(s, "base64url");
  if (signature.length !== sodium.crypto_sign_BYTES || signature.toString("base64url") !== s) throw new JwtRefused("signature");
  if (!sodium.crypto_sign_verify_detached(signature, Buffer.from(`${h}.${p}`, "latin1"), publicKey)) throw new JwtRefused("signature");

  const payload = jsonObject(p) as JWTPayload;
  if (typeof header.typ !== "string" || normalTyp(header.typ) !== normalTyp(check.type)) throw new JwtRefused("claim", "typ");
  // In jose's order, so that a token missing several claims is refused for the same one.
  for (const claim of [...check.requiredClaims, "aud", "iss"].reverse()) if (!Object.hasOwn(payload, claim)) throw new JwtRefused("claim", claim);
  if (payload.iss !== check.issuer) throw new JwtRefused("claim", "iss");
  const aud = payload.aud;
  if (!(typeof aud === "string" ? aud === check.audience : Array.isArray(aud) && aud.includes(check.audience))) throw new JwtRefused("claim", "aud");
  const now = Math.floor(Date.now() / 1000);
  const tolerance = check.clockToleranceSeconds;
  // Stricter than jose: a date must be a finite number (JSON's 1e999 parses to Infinity).
  const date = (claim: "iat" | "nbf" | "exp") => {
    const v = payload[claim];
    if (v !== undefined && !Number.isFinite(v)) throw new JwtRefused("claim", claim);
    return v;
  };
  date("iat");
  const nbf = date("nbf");
  if (nbf !== undefined && nbf > now + tolerance) throw new JwtRefused("claim", "nbf");
  const exp = date("exp");
  if (exp !== undefined && exp <= now - tolerance) throw new JwtRefused("expired");
  return { protectedHeader: header, payload, key };
}
