// Receipts, tracking codes and the sealed copy that lets a retry get its receipt back
// without storing any link between the voter and the ballot in the clear.
import { createCipheriv, createDecipheriv, hash as sha256Once, hkdfSync, randomFillSync } from "node:crypto";

export interface Receipt {
  electionId: number;
  seq: number;
  ballotHash: string;
  trackingCode: string;
  /** Format 2: the leaf, the first checkpoint that includes it and the inclusion proof. */
  leafIndex?: number;
  checkpoint?: string;
  inclusionPath?: Buffer[];
}

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// One CSPRNG call per 4 KiB instead of one per tracking code or IV.
const pool = Buffer.alloc(4096);
let poolUsed = pool.length;
function random(n: number): Buffer {
  if (poolUsed + n > pool.length) {
    randomFillSync(pool);
    poolUsed = 0;
  }
  const out = Buffer.from(pool.subarray(poolUsed, poolUsed + n));
  pool.fill(0, poolUsed, poolUsed + n);
  poolUsed += n;
  return out;
}

/** 128 random bits as 26 Crockford base32 characters. */
export function newTrackingCode(): string {
  // 26 characters x 5 bits = 130 bits, from 17 random bytes.
  const bytes = random(17);
  let out = "";
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = ((acc << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5 && out.length < 26) {
      bits -= 5;
      out += CROCKFORD[(acc >> bits) & 31];
    }
  }
  return out;
}

/** A fresh 32-byte salt for a log entry's commitment, hex. */
export const newSalt = (): string => random(32).toString("hex");

/** Accepts lower case, dashes and spaces; maps the look-alikes I, L and O as Crockford does. */
export function normalizeTrackingCode(input: string): string | undefined {
  const code = input.toUpperCase().replace(/[\s-]/g, "").replace(/[IL]/g, "1").replace(/O/g, "0");
  return /^[0-9A-HJKMNP-TV-Z]{26}$/.test(code) ? code : undefined;
}

const scope = (electionId: number, voterId: number) => `${electionId}:${voterId}`;

const COMMITMENT_LABEL = Buffer.from("voting-commitment-v1\n");

/** Binds the idempotency key to the ballot: a retry must repeat both. */
export function ballotCommitment(key: Buffer, electionId: number, voterId: number, choices: string): string {
  return sha256Once("sha256", Buffer.concat([COMMITMENT_LABEL, key, Buffer.from(`\n${scope(electionId, voterId)}\n${choices}\n`)]), "hex");
}

// Sealed receipts: AES-256-GCM, base64 of iv (12) || ciphertext || tag (16), under a key only
// the voter's client holds. Version 1 derived a key per ballot with HKDF (an HKDF key object
// per ballot: most of the sealing cost); version 2 ("2." before the base64) takes SHA-256 of a
// label and the idempotency key, and binds election and voter as additional data instead.
const V2 = "2.";
const V2_LABEL = Buffer.from("voting-receipt-v2\n");

const v1Key = (key: Buffer, electionId: number, voterId: number) => Buffer.from(hkdfSync("sha256", key, "voting-receipt-v1", scope(electionId, voterId), 32));
const v2Key = (key: Buffer) => sha256Once("sha256", Buffer.concat([V2_LABEL, key]), "buffer");

/** Seals a receipt (version 2). */
export function sealReceipt(key: Buffer, voterId: number, r: Receipt): string {
  const iv = random(12);
  const cipher = createCipheriv("aes-256-gcm", v2Key(key), iv);
  cipher.setAAD(Buffer.from(scope(r.electionId, voterId)));
  const body = cipher.update(JSON.stringify([r.seq, r.ballotHash, r.trackingCode]), "utf8");
  return V2 + Buffer.concat([iv, body, cipher.final(), cipher.getAuthTag()]).toString("base64");
}

/** Opens a sealed receipt of either version. */
export function openReceipt(key: Buffer, electionId: number, voterId: number, sealed: string): Receipt {
  const v2 = sealed.startsWith(V2);
  const raw = Buffer.from(v2 ? sealed.slice(V2.length) : sealed, "base64");
  const decipher = createDecipheriv("aes-256-gcm", v2 ? v2Key(key) : v1Key(key, electionId, voterId), raw.subarray(0, 12));
  if (v2) decipher.setAAD(Buffer.from(scope(electionId, voterId)));
  decipher.setAuthTag(raw.subarray(raw.length - 16));
  const plain = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString("utf8");
  const [seq, ballotHash, trackingCode] = JSON.parse(plain) as [number, string, string];
  return { electionId, seq, ballotHash, trackingCode };
}
