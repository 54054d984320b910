import { describe, expect, it } from "vitest";
import { cosignatureTime, verifierFromKey } from "./cosignature.js";
import {
  NoteError,
  SIG_ED25519,
  addSignatures,
  ed25519Signer,
  ed25519Verifier,
  formatSignerKey,
  formatVerifierKey,
  generateEd25519Seed,
  openNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  type NoteErrorKind,
} from "./note.js";

// golang/mod sumdb/note/note_test.go (commit 02c99138): a known key pair, a note and two
// signatures. Ed25519 is deterministic, so signing must reproduce PETER_SIG byte for byte.
const PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

const peter = () => verifierFromKey(PETER_VKEY);
const enoch = () => verifierFromKey(ENOCH_VKEY);

function failsWith(kind: NoteErrorKind, f: () => unknown): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(NoteError);
    expect((e as NoteError).kind).toBe(kind);
    return;
  }
  throw new Error(`expected a ${kind} NoteError`);
}

describe("signed notes: the golang.org/x/mod/sumdb/note vectors", () => {
  it("when the known private key signs the known text, then the note is byte-identical to Go's", () => {
    const signer = parseSignerKey(PETER_SKEY);
    expect(signer.keyId).toBe(0xc74f20a3);
    expect(signNote(TEXT, [signer])).toBe(`${TEXT}\n${PETER_SIG}`);
    // Re-signing replaces the key's old signature.
    expect(signNote(TEXT, [signer], [{ name: "PeterNeumann", keyId: 0xc74f20a3, base64: "BADSIGN=" }])).toBe(`${TEXT}\n${PETER_SIG}`);
  });

  it("when a note has a known and an unknown signature, then the known one is verified and the other ignored", () => {
    const n = openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [peter()]);
    expect(n.text).toBe(TEXT);
    expect(n.verified).toEqual([{ name: "PeterNeumann", keyId: 0xc74f20a3, base64: PETER_SIG.slice(15, -1) }]);
    expect(n.unknown.map((s) => s.name)).toEqual(["EnochRoot"]);
    expect(openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [peter(), enoch()]).verified.map((s) => s.name)).toEqual(["PeterNeumann", "EnochRoot"]);
    // Bytes in, too; duplicates count once.
    const twice = openNote(Buffer.from(`${TEXT}\n${PETER_SIG}${PETER_SIG}${ENOCH_SIG}${ENOCH_SIG}`), [peter()]);
    expect([twice.verified.length, twice.unknown.length]).toEqual([1, 1]);
  });

  it("when no signature is by a known key, then the note is rejected", () => {
    failsWith("unverified", () => openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, []));
    // Same name, other key: unknown, not a failure of the known key.
    const other = ed25519Verifier("PeterNeumann", generateEd25519Seed().publicKey);
    failsWith("unverified", () => openNote(`${TEXT}\n${PETER_SIG}`, [other]));
  });

  it("when a known key's signature does not verify, then the whole note is rejected", () => {
    failsWith("invalid-signature", () => openNote(`${TEXT}\n${PETER_SIG.slice(0, 60)}ABCD${PETER_SIG.slice(60)}`, [peter()]));
    failsWith("invalid-signature", () => openNote(`${TEXT.replace("If", "if")}\n${PETER_SIG}`, [peter()]));
  });

  it("when two verifiers share a name and key ID, then a note they could check is rejected as ambiguous", () => {
    failsWith("ambiguous-key", () => openNote(`${TEXT}\n${ENOCH_SIG}`, [enoch(), peter(), enoch()]));
    expect(openNote(`${TEXT}\n${PETER_SIG}`, [enoch(), peter(), enoch()]).verified).toHaveLength(1);
  });

  it.each([
    ["no signature block", TEXT],
    ["a blank line but no signature", `${TEXT}\n`],
    ["an unterminated signature line", `${TEXT}\n${PETER_SIG.slice(0, -1)}`],
    ["a leading control character", `\x01${TEXT}\n${PETER_SIG}`],
    ["a carriage return", `${TEXT.replace("\n", "\r\n")}\n${PETER_SIG}`],
    ["a key name with a space", `${TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`],
    ["a line after the signatures", `${TEXT}\n${PETER_SIG}Unexpected line.\n`],
    ["non-canonical base64", `${TEXT}\n${PETER_SIG.replace("AM=", "AN=")}`],
    ["a hyphen instead of an em dash", `${TEXT}\n${PETER_SIG.replace("—", "-")}`],
    ["101 signatures", `${TEXT}\n${PETER_SIG.repeat(101)}`],
  ])("when a note has %s, then it is malformed", (_, msg) => {
    failsWith("malformed", () => openNote(msg, [peter()]));
  });

  it("when the bytes are not UTF-8, then the note is malformed", () => {
    failsWith("malformed", () => openNote(Buffer.concat([Buffer.from([0xff]), Buffer.from(`${TEXT}\n${PETER_SIG}`)]), [peter()]));
  });

  it("when a text does not end in a newline, then it cannot be signed", () => {
    failsWith("malformed", () => signNote("abc", [parseSignerKey(PETER_SKEY)]));
  });
});

describe("verifier and signer keys", () => {
  it("when the Go vkeys are parsed, then their key IDs and public keys match the signer's", () => {
    const v = parseVerifierKey(PETER_VKEY);
    expect([v.name, v.keyId, v.type]).toEqual(["PeterNeumann", 0xc74f20a3, SIG_ED25519]);
    expect(formatVerifierKey(v.name, v.type, v.publicKey)).toBe(PETER_VKEY);
    const seed = Buffer.from("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", "base64").subarray(1);
    expect(formatSignerKey("PeterNeumann", seed)).toBe(PETER_SKEY);
    expect(ed25519Signer("PeterNeumann", seed).keyId).toBe(v.keyId);
    // transparency-dev/formats note/note_cosigv1_test.go: an Ed25519 vkey whose base64 has a "+".
    expect(verifierFromKey("TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6").keyId).toBe(0x7997405c);
  });

  // golang/mod TestNewVerifier: every substring and every one-byte change is refused.
  it("when a vkey is cut or any byte of it changed, then it is refused", () => {
    const b = Buffer.from(PETER_VKEY);
    for (let i = 0; i <= b.length; i++) {
      for (let j = i + 1; j <= b.length; j++) {
        if (i !== 0 || j !== b.length) expect(() => verifierFromKey(b.subarray(i, j).toString()), b.subarray(i, j).toString()).toThrow(NoteError);
      }
    }
    for (let i = 0; i < b.length; i++) {
      const c = Buffer.from(b);
      c[i]++;
      expect(() => verifierFromKey(c.toString()), c.toString()).toThrow(NoteError);
    }
    expect(() => verifierFromKey("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==")).toThrow(NoteError);
    expect(() => verifierFromKey("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")).toThrow(/unsupported signature type 0x65/);
  });

  it("when a signer key is cut or changed, then it is refused", () => {
    for (const bad of [PETER_SKEY.slice(1), PETER_SKEY.slice(0, -1), PETER_SKEY.replace("c74f20a3", "c74f20a4"), PETER_SKEY.replace("AYEK", "AYEL")]) {
      expect(() => parseSignerKey(bad), bad).toThrow(NoteError);
    }
  });

  it("when a fresh key signs and a witness adds its signature, then both verify and the first stays first", () => {
    const a = generateEd25519Seed();
    const b = generateEd25519Seed();
    const signed = signNote("hello\n", [ed25519Signer("example.org/a", a.seed)]);
    const both = addSignatures(signed, [ed25519Signer("example.org/b", b.seed)]);
    const va = verifierFromKey(formatVerifierKey("example.org/a", SIG_ED25519, a.publicKey));
    const vb = ed25519Verifier("example.org/b", b.publicKey);
    expect(both.startsWith(signed)).toBe(true);
    expect(openNote(both, [va, vb]).verified.map((s) => s.name)).toEqual(["example.org/a", "example.org/b"]);
  });
});

describe("cosignature timestamps", () => {
  // transparency-dev/formats note/note_cosigv1_test.go TestCosignatureTimestamp.
  it("when a cosignature/v1 line is read, then its timestamp is the 8 bytes after the key ID", () => {
    const sig = "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA==";
    expect(cosignatureTime({ name: "w", keyId: 0x646846b9, base64: sig })).toBe(1727964367);
    const ed25519Only = "eQjRQm6eSKzFoiYalgwCPXu2y3ijtg68is9M46JKxuZB+dRfTmeQeDBoXnvxZx2ugnkyV+MUMLXpWs1hPb/W/4xkNQY=";
    expect(cosignatureTime({ name: "w", keyId: 0, base64: ed25519Only })).toBeUndefined();
    // A native cosignature/v1 vkey (type 0x04) from the same test file.
    expect(verifierFromKey("remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2").keyId).toBe(0xda77ade7);
  });
});
