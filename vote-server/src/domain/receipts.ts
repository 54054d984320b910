// Receipts, tracking codes and the sealed copy that lets a retry get its receipt back
// without storing any link between the voter and the ballot in the clear.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomFillSync } from "node:crypto";

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

/** Binds the idempotency key to the ballot: a retry must repeat both. */
export function ballotCommitment(key: Buffer, electionId: number, voterId: number, choices: string): string {
  return createHash("sha256").update("voting-commitment-v1\n").update(key).update(`\n${scope(electionId, voterId)}\n${choices}\n`).digest("hex");
}

function receiptKey(key: Buffer, electionId: number, voterId: number): Buffer {
  return Buffer.from(hkdfSync("sha256", key, "voting-receipt-v1", scope(electionId, voterId), 32));
}

/** AES-256-GCM under a key only the voter's client holds; base64 of iv || ciphertext || tag. */
export function sealReceipt(key: Buffer, voterId: number, r: Receipt): string {
  const iv = random(12);
  const cipher = createCipheriv("aes-256-gcm", receiptKey(key, r.electionId, voterId), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify([r.seq, r.ballotHash, r.trackingCode]), "utf8"), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64");
}

export function openReceipt(key: Buffer, electionId: number, voterId: number, sealed: string): Receipt {
  const raw = Buffer.from(sealed, "base64");
  const decipher = createDecipheriv("aes-256-gcm", receiptKey(key, electionId, voterId), raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(raw.length - 16));
  const plain = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString("utf8");
  const [seq, ballotHash, trackingCode] = JSON.parse(plain) as [number, string, string];
  return { electionId, seq, ballotHash, trackingCode };
}
