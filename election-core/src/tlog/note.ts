// C2SP signed-note (c2sp.org/signed-note, the format of golang.org/x/mod/sumdb/note): text,
// a blank line, then "— <key name> <base64(key ID || signature)>" lines. Ed25519 keys and the
// vkey text form "<name>+<hex key ID>+<base64(type || public key)>".
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";

/** Signature type bytes of c2sp.org/signed-note. */
export const SIG_ED25519 = 0x01;
export const SIG_COSIGNATURE_V1 = 0x04;
/** We refuse notes with more signatures than this (the spec asks to accept at least 16). */
export const MAX_SIGNATURES = 100;

export type NoteErrorKind = "malformed" | "unverified" | "invalid-signature" | "ambiguous-key" | "bad-key";

export class NoteError extends Error {
  constructor(
    readonly kind: NoteErrorKind,
    message: string,
  ) {
    super(message);
    this.name = "NoteError";
  }
}

export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  /** The signature bytes over the note text (without the key ID). */
  sign(text: Buffer): Buffer;
}

export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  verify(text: Buffer, signature: Buffer): boolean;
}

/** One signature line: the key name, the key ID and the base64 of (key ID || signature). */
export interface NoteSignature {
  name: string;
  keyId: number;
  base64: string;
}

export interface OpenedNote {
  text: string;
  /** Signatures by the given verifiers' keys, each verified (one per key). */
  verified: NoteSignature[];
  /** Signatures by other keys, ignored as the spec requires. */
  unknown: NoteSignature[];
}

/** Key names are non-empty and have no Unicode space and no "+". */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name) && !/\p{Cs}/u.test(name) && !/[\x00-\x1f]/.test(name);
}

/** key ID = SHA-256(key name || 0x0A || signature type || public key)[:4], big-endian. */
export function noteKeyId(name: string, type: number, publicKey: Uint8Array): number {
  return createHash("sha256").update(`${name}\n`, "utf8").update(Buffer.of(type)).update(publicKey).digest().readUInt32BE(0);
}

const hex8 = (id: number) => id.toString(16).padStart(8, "0");

/** Standard base64 with padding, rejecting anything that does not round-trip. */
export function decodeBase64Strict(s: string): Buffer | undefined {
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return undefined;
  const b = Buffer.from(s, "base64");
  return b.toString("base64") === s ? b : undefined;
}

// ---- Ed25519 keys ----

const PKCS8_ED25519 = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_ED25519 = Buffer.from("302a300506032b6570032100", "hex");

export function ed25519PrivateKey(seed: Uint8Array): KeyObject {
  if (seed.length !== 32) throw new NoteError("bad-key", "an Ed25519 seed is 32 bytes");
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: "der", type: "pkcs8" });
}

export function ed25519PublicKey(key: Uint8Array | KeyObject): KeyObject {
  if (!(key instanceof Uint8Array)) return key.type === "public" ? key : createPublicKey(key);
  if (key.length !== 32) throw new NoteError("bad-key", "an Ed25519 public key is 32 bytes");
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519, key]), format: "der", type: "spki" });
}

/** The 32 raw bytes of an Ed25519 public key. */
export function rawPublicKey(key: KeyObject): Buffer {
  return (key.type === "private" ? createPublicKey(key) : key).export({ format: "der", type: "spki" }).subarray(SPKI_ED25519.length);
}

/** A fresh Ed25519 key: its 32-byte seed (the secret) and 32-byte public key. */
export function generateEd25519Seed(): { seed: Buffer; publicKey: Buffer } {
  const { privateKey } = generateKeyPairSync("ed25519");
  const seed = privateKey.export({ format: "der", type: "pkcs8" }).subarray(PKCS8_ED25519.length);
  return { seed: Buffer.from(seed), publicKey: rawPublicKey(privateKey) };
}

export function ed25519Signer(name: string, seed: Uint8Array): NoteSigner {
  if (!isValidKeyName(name)) throw new NoteError("bad-key", `invalid key name ${JSON.stringify(name)}`);
  const key = ed25519PrivateKey(seed);
  return { name, keyId: noteKeyId(name, SIG_ED25519, rawPublicKey(key)), sign: (text) => sign(null, text, key) };
}

export function ed25519Verifier(name: string, publicKey: Uint8Array): NoteVerifier {
  if (!isValidKeyName(name)) throw new NoteError("bad-key", `invalid key name ${JSON.stringify(name)}`);
  const key = ed25519PublicKey(publicKey);
  return { name, keyId: noteKeyId(name, SIG_ED25519, publicKey), verify: (text, sig) => sig.length === 64 && verify(null, text, key, sig) };
}

// ---- Key text forms ----

/** "<name>+<hex key ID>+<base64(type || public key)>". */
export function formatVerifierKey(name: string, type: number, publicKey: Uint8Array): string {
  if (!isValidKeyName(name)) throw new NoteError("bad-key", `invalid key name ${JSON.stringify(name)}`);
  return `${name}+${hex8(noteKeyId(name, type, publicKey))}+${Buffer.concat([Buffer.of(type), publicKey]).toString("base64")}`;
}

/** Parses a vkey, checking its key ID against its name and key; does not interpret the type. */
export function parseVerifierKey(vkey: string): { name: string; keyId: number; type: number; publicKey: Buffer } {
  const bad = (why: string) => new NoteError("bad-key", `malformed verifier key: ${why}`);
  // The key's base64 may itself contain "+": split at the first two only.
  const m = /^([^+]*)\+([^+]*)\+(.*)$/s.exec(vkey);
  if (!m) throw bad("expected name+keyid+key");
  const [, name, id, b64] = m;
  if (!isValidKeyName(name)) throw bad("invalid name");
  if (!/^[0-9a-f]{8}$/.test(id)) throw bad("the key ID is not 8 lower-case hex digits");
  const key = decodeBase64Strict(b64);
  if (!key || key.length < 2) throw bad("the key is not base64");
  const type = key[0];
  const publicKey = key.subarray(1);
  if ((type === SIG_ED25519 || type === SIG_COSIGNATURE_V1) && publicKey.length !== 32) throw bad("an Ed25519 key is 32 bytes");
  const keyId = noteKeyId(name, type, publicKey);
  if (hex8(keyId) !== id) throw bad("the key ID does not match the name and key");
  return { name, keyId, type, publicKey: Buffer.from(publicKey) };
}

/** golang.org/x/mod/sumdb/note's private key form: "PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>". */
export function formatSignerKey(name: string, seed: Uint8Array): string {
  const id = hex8(ed25519Signer(name, seed).keyId);
  return `PRIVATE+KEY+${name}+${id}+${Buffer.concat([Buffer.of(SIG_ED25519), seed]).toString("base64")}`;
}

export function parseSignerKey(skey: string): NoteSigner {
  const m = /^PRIVATE\+KEY\+([^+]+)\+([0-9a-f]{8})\+(.+)$/s.exec(skey);
  const key = m ? decodeBase64Strict(m[3]) : undefined;
  if (!m || !key || key.length !== 33 || key[0] !== SIG_ED25519) throw new NoteError("bad-key", "malformed signer key");
  const signer = ed25519Signer(m[1], key.subarray(1));
  if (hex8(signer.keyId) !== m[2]) throw new NoteError("bad-key", "the signer key's ID does not match its name and key");
  return signer;
}

// ---- Notes ----

function checkText(text: string, what: string): void {
  if (/\p{Cs}/u.test(text) || /[\x00-\x09\x0b-\x1f]/.test(text)) throw new NoteError("malformed", `${what} has a control character or invalid UTF-8`);
}

function signatureLine(signer: NoteSigner, text: Buffer): { sig: NoteSignature; line: string } {
  if (!isValidKeyName(signer.name)) throw new NoteError("bad-key", `invalid key name ${JSON.stringify(signer.name)}`);
  const id = Buffer.alloc(4);
  id.writeUInt32BE(signer.keyId);
  const base64 = Buffer.concat([id, signer.sign(text)]).toString("base64");
  return { sig: { name: signer.name, keyId: signer.keyId, base64 }, line: `— ${signer.name} ${base64}\n` };
}

/** Splits a note into text and signature lines, checking syntax only. */
export function parseNote(msg: string | Uint8Array): { text: string; signatures: NoteSignature[] } {
  let s: string;
  try {
    s = typeof msg === "string" ? msg : new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(msg);
  } catch {
    throw new NoteError("malformed", "the note is not UTF-8");
  }
  checkText(s, "the note");
  const split = s.lastIndexOf("\n\n");
  if (split < 0) throw new NoteError("malformed", "the note has no signature block");
  const text = s.slice(0, split + 1);
  const block = s.slice(split + 2);
  if (block === "" || !block.endsWith("\n")) throw new NoteError("malformed", "the signature block is empty or unterminated");
  const lines = block.slice(0, -1).split("\n");
  if (lines.length > MAX_SIGNATURES) throw new NoteError("malformed", `more than ${MAX_SIGNATURES} signatures`);
  const signatures = lines.map((line) => {
    const m = /^— ([^ ]+) ([^ ]+)$/u.exec(line);
    const bytes = m && isValidKeyName(m[1]) ? decodeBase64Strict(m[2]) : undefined;
    if (!m || !bytes || bytes.length < 5) throw new NoteError("malformed", "malformed signature line");
    return { name: m[1], keyId: bytes.readUInt32BE(0), base64: m[2] };
  });
  return { text, signatures };
}

/**
 * Opens a note: every signature whose (name, key ID) matches a verifier must verify, others are
 * ignored, and at least one must be known and valid.
 */
export function openNote(msg: string | Uint8Array, verifiers: readonly NoteVerifier[]): OpenedNote {
  const { text, signatures } = parseNote(msg);
  const bytes = Buffer.from(text, "utf8");
  const verified: NoteSignature[] = [];
  const unknown: NoteSignature[] = [];
  for (const sig of signatures) {
    const matches = verifiers.filter((v) => v.name === sig.name && v.keyId === sig.keyId);
    const label = `${sig.name}+${hex8(sig.keyId)}`;
    if (matches.length > 1) throw new NoteError("ambiguous-key", `ambiguous key ${label}`);
    if (matches.length === 0) {
      if (!unknown.some((u) => u.name === sig.name && u.base64 === sig.base64)) unknown.push(sig);
      continue;
    }
    if (!matches[0].verify(bytes, decodeBase64Strict(sig.base64)!.subarray(4))) throw new NoteError("invalid-signature", `invalid signature for key ${label}`);
    if (!verified.some((v) => v.name === sig.name && v.keyId === sig.keyId)) verified.push(sig);
  }
  if (verified.length === 0) throw new NoteError("unverified", "note has no verifiable signatures");
  return { text, verified, unknown };
}

/** Signs `text` (LF-terminated): the `keep` signatures of other keys first, then the new ones. */
export function signNote(text: string, signers: readonly NoteSigner[], keep: readonly NoteSignature[] = []): string {
  if (!text.endsWith("\n")) throw new NoteError("malformed", "note text must end with a newline");
  checkText(text, "the note text");
  const bytes = Buffer.from(text, "utf8");
  const fresh = signers.map((s) => signatureLine(s, bytes));
  const kept = keep.filter((k) => !fresh.some((f) => f.sig.name === k.name && f.sig.keyId === k.keyId));
  const out = `${text}\n${kept.map((k) => `— ${k.name} ${k.base64}\n`).join("")}${fresh.map((f) => f.line).join("")}`;
  parseNote(out); // the result must be a well-formed note (e.g. no "\n\n" inside a name)
  return out;
}

/** Adds signatures to a signed note, keeping the ones it has (used by witnesses to cosign). */
export function addSignatures(msg: string, signers: readonly NoteSigner[]): string {
  const { text, signatures } = parseNote(msg);
  return signNote(text, signers, signatures);
}
