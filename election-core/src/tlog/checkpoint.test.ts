import { createPublicKey, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { electionOrigin, formatCheckpoint, openCheckpoint, parseCheckpoint, signCheckpoint, type Checkpoint } from "./checkpoint.js";
import { cosignatureSigner, cosignatureVerifier, verifierFromKey } from "./cosignature.js";
import { MemoryTree } from "./tree.js";
import { leafHash } from "./merkle.js";
import { NoteError, SIG_COSIGNATURE_V1, addSignatures, ed25519Signer, ed25519Verifier, formatVerifierKey, generateEd25519Seed, noteKeyId, openNote, parseNote } from "./note.js";

// Real checkpoints of Go's checksum database, signed by its published key (the default GOSUMDB
// key in the go command). The notes are as quoted in public write-ups of sum.golang.org lookups.
const SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";
const SUMDB_NOTES = [
  "go.sum database tree\n15368405\n/g9am3I6YWNKaZX/jkne1fqd9zEyjss+JXyPXG0WfkY=\n\n— sum.golang.org Az3grqJGUaSGukG9p8nI2vKgiFn7qGHxn0W+mrwyI6Gz3F0t1J3LzmWk/p96Ybf295EjwdSwlzgijq5WA9d1Ded7owM=\n",
  "go.sum database tree\n63096908\n8lHrQPRYe4KT4WQ9/Qk8/taKnD6IRHbFgfN7vQE2Y54=\n\n— sum.golang.org Az3gri/oVBN1jAhNZ/iS+W31psFAWRT20/GyrhpU6taFwulQGetBkH5S7wpGXdS935jiIGiUUAXBVHzT/P6fYhqAmAk=\n",
];
// The example body of c2sp.org/tlog-checkpoint.
const C2SP_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

function electionLog(size: number) {
  const origin = electionOrigin("vote.example.org", 7);
  const key = generateEd25519Seed();
  const tree = new MemoryTree();
  for (let i = 0; i < size; i++) tree.appendLeafHash(leafHash(Buffer.from(`entry ${i}\n`)));
  const checkpoint: Checkpoint = { origin, size, rootHash: tree.root(), extensions: [] };
  return { origin, key, tree, checkpoint, signer: ed25519Signer(origin, key.seed), verifier: ed25519Verifier(origin, key.publicKey) };
}

describe("checkpoints", () => {
  it.each(SUMDB_NOTES)("when a real sum.golang.org checkpoint is opened with its published key, then it verifies", (note) => {
    const opened = openCheckpoint(note, { log: verifierFromKey(SUMDB_VKEY), origin: "go.sum database tree" });
    expect(opened.checkpoint.size).toBe(Number(note.split("\n")[1]));
    expect(opened.checkpoint.rootHash).toHaveLength(32);
    expect(() => openCheckpoint(note.replace(/\n(\d)/, "\n9"), { log: verifierFromKey(SUMDB_VKEY) })).toThrow(/invalid signature/);
  });

  it("when the C2SP example body is parsed, then formatting it gives the same bytes", () => {
    const c = parseCheckpoint(C2SP_BODY);
    expect([c.origin, c.size, c.extensions]).toEqual(["example.com/behind-the-sofa", 20852163, []]);
    expect(formatCheckpoint(c)).toBe(C2SP_BODY);
    const withExtension = `${C2SP_BODY}extension line\n`;
    expect(formatCheckpoint(parseCheckpoint(withExtension))).toBe(withExtension);
  });

  it.each([
    ["fewer than three lines", "origin\n5\n"],
    ["an empty origin", "\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"],
    ["a size with a leading zero", "o\n05\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"],
    ["a negative size", "o\n-5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"],
    ["a size with a plus sign", "o\n+5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"],
    ["a 31-byte root", `o\n5\n${Buffer.alloc(31).toString("base64")}\n`],
    ["unpadded base64", "o\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n"],
    ["an empty extension line", `${C2SP_BODY}\nx\n`],
    ["no final newline", C2SP_BODY.slice(0, -1)],
  ])("when checkpoint text has %s, then it is malformed", (_, text) => {
    expect(() => parseCheckpoint(text)).toThrow(NoteError);
  });

  it("names an election's log origin after the log and the election", () => {
    expect(electionOrigin("vote.example.org", 7)).toBe("vote.example.org/election/7");
    for (const bad of ["", "with space", "a+b"]) expect(() => electionOrigin(bad, 1)).toThrow(RangeError);
    expect(() => electionOrigin("x", 0)).toThrow(RangeError);
  });

  it("when the log signs a checkpoint, then it opens only with the log's key and for its own origin", () => {
    const { signer, verifier, checkpoint, origin, key } = electionLog(5);
    const note = signCheckpoint(checkpoint, signer);
    expect(note).toBe(`${origin}\n5\n${checkpoint.rootHash.toString("base64")}\n\n${note.split("\n\n")[1]}`);
    const opened = openCheckpoint(note, { log: verifier, origin });
    expect(opened.checkpoint).toEqual(checkpoint);
    expect(verifierFromKey(formatVerifierKey(origin, 0x01, key.publicKey)).keyId).toBe(verifier.keyId);
    expect(() => openCheckpoint(note, { log: verifier, origin: electionOrigin("vote.example.org", 8) })).toThrow(/expected/);
    expect(() => openCheckpoint(note, { log: ed25519Verifier(origin, generateEd25519Seed().publicKey) })).toThrow(NoteError);
    expect(() => openCheckpoint(note.replace("\n5\n", "\n6\n"), { log: verifier })).toThrow(/invalid signature/);
  });
});

describe("witness cosignatures (cosignature/v1)", () => {
  const T = 1_764_500_000;
  const witnessName = "witness.example.net/w1";

  it("when a witness cosigns, then the line carries key ID, big-endian time and an Ed25519 signature over the C2SP message", () => {
    const { signer, verifier, checkpoint } = electionLog(9);
    const w = generateEd25519Seed();
    const cosigned = addSignatures(signCheckpoint(checkpoint, signer), [cosignatureSigner(witnessName, w.seed, () => T)]);
    const line = parseNote(cosigned).signatures[1];
    const bytes = Buffer.from(line.base64, "base64");
    expect(bytes).toHaveLength(4 + 8 + 64);
    expect(bytes.readUInt32BE(0)).toBe(noteKeyId(witnessName, SIG_COSIGNATURE_V1, w.publicKey));
    expect(bytes.readBigUInt64BE(4)).toBe(BigInt(T));
    // Checked with node:crypto directly, against the message as c2sp.org/tlog-cosignature spells it.
    const message = Buffer.from(`cosignature/v1\ntime ${T}\n${formatCheckpoint(checkpoint)}`);
    expect(verify(null, message, createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: w.publicKey.toString("base64url") }, format: "jwk" }), bytes.subarray(12))).toBe(true);
    const opened = openCheckpoint(cosigned, { log: verifier, witnesses: [cosignatureVerifier(witnessName, w.publicKey)] });
    expect(opened.cosignatures).toEqual([{ name: witnessName, keyId: line.keyId, base64: line.base64, time: T }]);
    // The vkey form (type 0x04) gives the same verifier.
    expect(verifierFromKey(formatVerifierKey(witnessName, SIG_COSIGNATURE_V1, w.publicKey)).keyId).toBe(line.keyId);
  });

  it("when a cosignature's time or the checkpoint is altered, then it fails; unknown witnesses are ignored", () => {
    const { signer, verifier, checkpoint } = electionLog(4);
    const w = generateEd25519Seed();
    const cosigned = addSignatures(signCheckpoint(checkpoint, signer), [cosignatureSigner(witnessName, w.seed, () => T)]);
    const wv = cosignatureVerifier(witnessName, w.publicKey);
    const sig = parseNote(cosigned).signatures[1];
    const bytes = Buffer.from(sig.base64, "base64");
    bytes.writeBigUInt64BE(BigInt(T + 1), 4);
    const retimed = cosigned.replace(sig.base64, bytes.toString("base64"));
    expect(() => openCheckpoint(retimed, { log: verifier, witnesses: [wv] })).toThrow(/invalid signature for key witness/);
    expect(openCheckpoint(retimed, { log: verifier }).cosignatures).toEqual([]);
    // A witness key that only knows the checkpoint, not the log key, still cannot open it alone.
    expect(() => openCheckpoint(cosigned, { log: ed25519Verifier("other", generateEd25519Seed().publicKey), witnesses: [wv] })).toThrow(/not signed by the log/);
    // The same key used as a plain note key has another key ID: the cosignature is unknown to it.
    expect(() => openNote(cosigned, [ed25519Verifier(witnessName, w.publicKey)])).toThrow(/no verifiable signatures/);
  });

  it("when a verifier sets a latest acceptable time, then later cosignatures fail", () => {
    const { signer, verifier, checkpoint } = electionLog(3);
    const w = generateEd25519Seed();
    const cosigned = addSignatures(signCheckpoint(checkpoint, signer), [cosignatureSigner(witnessName, w.seed, () => T)]);
    expect(openCheckpoint(cosigned, { log: verifier, witnesses: [cosignatureVerifier(witnessName, w.publicKey, () => T)] }).cosignatures).toHaveLength(1);
    expect(() => openCheckpoint(cosigned, { log: verifier, witnesses: [cosignatureVerifier(witnessName, w.publicKey, () => T - 1)] })).toThrow(NoteError);
  });
});

describe("the example of docs/transparency-log.md", () => {
  // Entry 1 of election 7 from the format 2 test vector of docs/ballot-log.md; log key seed
  // 32 bytes of 0x11, witness key seed 32 bytes of 0x22. Ed25519 is deterministic.
  const DOC_NOTE =
    "vote.example.org/election/7\n1\n65oxyIvZvm49fude+J05zJlfqwllRWvjJs9rneweLJc=\n\n" +
    "— vote.example.org/election/7 3igrqbMbTAo5m+aez07d5YSn7+4sCTLMSwYvYeqNbVekWlt0Lu99UDQv2O9Cz4TTA6PLG0qiWkc6baZguDa+5rwB3Ak=\n" +
    "— witness.example.net/w1 uA3YCgAAAABpLCIgkF94JLJbZ0oObUuoiEp+DOjcZWrFYR9iwUNCfJFGLTZ1EmYXW5tnG2oZnjqWKa2LZJGBs6Xeunc3iySvUz/aDA==\n";
  const LOG_VKEY = "vote.example.org/election/7+de282ba9+AdBKsjJ0K7SrOhNovUYV5ObQIkq3GgFrr4UgozLJd4c3";
  const WITNESS_VKEY = "witness.example.net/w1+b80dd80a+BKCapfR6Z1mAL/lV+NwtKhSlyZ0jvpf4ZBJ/+Tg0VaTw";

  it("when the documented entry is logged, signed and cosigned, then the note is the documented one byte for byte", () => {
    const entry = Buffer.from("voting-ballot-log-v2\n7\n1\n0123456789ABCDEFGHJKMNPQRS\n56734ac056035b805082be08393113c51aeb1b06d26d18459d2feeabda1b1ebf\n");
    const tree = new MemoryTree();
    tree.appendLeafHash(leafHash(entry));
    expect(tree.root().toString("hex")).toBe("eb9a31c88bd9be6e3d7ee75ef89d39cc995fab0965456be326cf6b9dec1e2c97");
    const origin = electionOrigin("vote.example.org", 7);
    const note = signCheckpoint({ origin, size: 1, rootHash: tree.root(), extensions: [] }, ed25519Signer(origin, Buffer.alloc(32, 0x11)));
    expect(addSignatures(note, [cosignatureSigner("witness.example.net/w1", Buffer.alloc(32, 0x22), () => 1764500000)])).toBe(DOC_NOTE);
    const opened = openCheckpoint(DOC_NOTE, { log: verifierFromKey(LOG_VKEY), witnesses: [verifierFromKey(WITNESS_VKEY)], origin });
    expect(opened.cosignatures.map((c) => c.time)).toEqual([1764500000]);
  });
});
