// C2SP tlog-cosignature, Ed25519 "cosignature/v1": a witness's note signature over
// "cosignature/v1\ntime <t>\n" || checkpoint text, carried as 8-byte big-endian t || Ed25519
// signature, under key ID SHA-256(name || "\n" || 0x04 || public key)[:4].
import { sign, verify } from "node:crypto";
import {
  NoteError,
  SIG_COSIGNATURE_V1,
  SIG_ED25519,
  decodeBase64Strict,
  ed25519PrivateKey,
  ed25519PublicKey,
  ed25519Verifier,
  isValidKeyName,
  noteKeyId,
  parseVerifierKey,
  rawPublicKey,
  type NoteSignature,
  type NoteSigner,
  type NoteVerifier,
} from "./note.js";

export const COSIGNATURE_SIZE = 8 + 64;

function cosignedMessage(time: bigint, text: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`cosignature/v1\ntime ${time}\n`, "utf8"), text]);
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A witness's cosigner; `now` gives the POSIX time in seconds to put in each cosignature. */
export function cosignatureSigner(name: string, seed: Uint8Array, now: () => number = nowSeconds): NoteSigner {
  if (!isValidKeyName(name)) throw new NoteError("bad-key", `invalid key name ${JSON.stringify(name)}`);
  const key = ed25519PrivateKey(seed);
  return {
    name,
    keyId: noteKeyId(name, SIG_COSIGNATURE_V1, rawPublicKey(key)),
    sign(text) {
      const t = now();
      if (!Number.isSafeInteger(t) || t < 0) throw new RangeError(`bad cosignature time ${t}`);
      const out = Buffer.alloc(8);
      out.writeBigUInt64BE(BigInt(t));
      return Buffer.concat([out, sign(null, cosignedMessage(BigInt(t), text), key)]);
    },
  };
}

/**
 * Verifies cosignatures of a witness key. Timestamps above 2^53 - 1 (hundreds of millions of
 * years ahead) are refused; `maxTime`, when given, refuses later ones too (clock skew allowance
 * is the caller's).
 */
export function cosignatureVerifier(name: string, publicKey: Uint8Array, maxTime?: () => number): NoteVerifier {
  if (!isValidKeyName(name)) throw new NoteError("bad-key", `invalid key name ${JSON.stringify(name)}`);
  const key = ed25519PublicKey(publicKey);
  return {
    name,
    keyId: noteKeyId(name, SIG_COSIGNATURE_V1, publicKey),
    verify(text, sig) {
      if (sig.length !== COSIGNATURE_SIZE) return false;
      const t = sig.readBigUInt64BE(0);
      if (t > BigInt(Number.MAX_SAFE_INTEGER) || (maxTime && Number(t) > maxTime())) return false;
      return verify(null, cosignedMessage(t, text), key, sig.subarray(8));
    },
  };
}

/** The timestamp (POSIX seconds) of a cosignature line, or undefined when it is not one. */
export function cosignatureTime(sig: NoteSignature): number | undefined {
  const bytes = decodeBase64Strict(sig.base64);
  if (!bytes || bytes.length !== 4 + COSIGNATURE_SIZE) return undefined;
  const t = bytes.readBigUInt64BE(4);
  return t > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(t);
}

/** A verifier from a vkey: type 0x01 is an Ed25519 note signer, type 0x04 an Ed25519 cosigner. */
export function verifierFromKey(vkey: string): NoteVerifier {
  const k = parseVerifierKey(vkey);
  if (k.type === SIG_ED25519) return ed25519Verifier(k.name, k.publicKey);
  if (k.type === SIG_COSIGNATURE_V1) return cosignatureVerifier(k.name, k.publicKey);
  throw new NoteError("bad-key", `unsupported signature type 0x${k.type.toString(16).padStart(2, "0")} in ${k.name}`);
}
