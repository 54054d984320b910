// Receipts, tracking codes and the sealed copy that lets a retry get its receipt back
// without storing any link between the voter and the ballot in the clear.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from "node:crypto";

export interface Receipt {
  electionId: number;
  seq: number;
  ballotHash: string;
  trackingCode: string;
}

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** 128 random bits as 26 Crockford base32 characters. */
export function newTrackingCode(): string {
  const bytes = randomBytes(17); // 136 bits drawn, the first 130 used: 26 x 5 bits
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  bits >>= 6n;
  let out = "";
  for (let i = 0; i < 26; i++) {
    out = CROCKFORD[Number(bits & 31n)] + out;
    bits >>= 5n;
  }
  return out;
}

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
  const iv = randomBytes(12);
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
