// Messages between vote-server's event loop and its ballot writer thread. Buffers that are
// cloned cross as Uint8Arrays of their own exact size: structured cloning copies a view's whole
// ArrayBuffer, and a small Buffer is a view of an 8 KiB pool.
import { AlreadyExistsError, DomainError, FailedPreconditionError, UnavailableError, type DomainErrorOptions } from "@voting/server-kit";
import type { LogKey } from "../domain/transparency-log.js";
import type { Receipt } from "../domain/receipts.js";
import type { LogRow } from "../db/ballot-repository.js";

export interface WriterInit {
  databaseUrl: string;
  batchMax: number;
  lingerMs: number;
  logName: string;
  key: LogKey;
}

/** A cast as the event loop sends it: `id` is its answer's. */
export interface WireCast {
  id: number;
  electionId: number;
  voterId: number;
  choices: number[];
  idempotencyKey: Uint8Array;
}

export interface WireError {
  kind: string;
  message: string;
  opts: DomainErrorOptions;
}

// Casts and receipts cross in one packed ArrayBuffer per message, transferred: structured
// cloning an object per ballot (and its strings and byte arrays) cost both threads more.
export type ToWriter = { t: "key"; key: LogKey } | { t: "cast"; casts: ArrayBuffer } | { t: "close" };

export type FromWriter =
  | { t: "answers"; receipts: ArrayBuffer; errors: { id: number; error: WireError }[] }
  | { t: "appended"; electionId: number; headSeq: number; rows: LogRow[] }
  | { t: "committed"; batchSize: number; appended: number }
  | { t: "failed"; electionId: number; batchSize: number; message: string; code?: string };

export const ownBytes = (b: Uint8Array): Uint8Array => new Uint8Array(b);

export const asBuffer = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** Writes numbers (as float64: ids and seqs are safe integers), byte strings and strings into a buffer of the size given. */
class Packer {
  readonly buf: Buffer;
  private at = 0;
  constructor(size: number) {
    // Its own ArrayBuffer (never a slice of Buffer's pool), so that it can be transferred.
    this.buf = Buffer.from(new ArrayBuffer(size));
  }
  num(x: number) {
    this.at = this.buf.writeDoubleLE(x, this.at);
  }
  bytes(b: Uint8Array) {
    this.num(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }
  str(s: string) {
    const n = this.buf.write(s, this.at + 8, "utf8");
    this.num(n);
    this.at += n;
  }
  done(): ArrayBuffer {
    if (this.at !== this.buf.length) throw new Error(`packed ${this.at} of ${this.buf.length} bytes`);
    return this.buf.buffer as ArrayBuffer;
  }
}

class Unpacker {
  private readonly buf: Buffer;
  private at = 0;
  constructor(ab: ArrayBuffer) {
    this.buf = Buffer.from(ab);
  }
  get more() {
    return this.at < this.buf.length;
  }
  num(): number {
    const x = this.buf.readDoubleLE(this.at);
    this.at += 8;
    return x;
  }
  /** A view of the message's buffer, not a copy. */
  bytes(): Buffer {
    const n = this.num();
    this.at += n;
    return this.buf.subarray(this.at - n, this.at);
  }
  str(): string {
    const n = this.num();
    this.at += n;
    return this.buf.toString("utf8", this.at - n, this.at);
  }
}

const strSize = (s: string) => 8 + Buffer.byteLength(s, "utf8");

export function packCasts(casts: WireCast[]): ArrayBuffer {
  let size = 0;
  for (const c of casts) size += 8 * (4 + c.choices.length) + 8 + c.idempotencyKey.length;
  const p = new Packer(size);
  for (const c of casts) {
    p.num(c.id);
    p.num(c.electionId);
    p.num(c.voterId);
    p.num(c.choices.length);
    for (const x of c.choices) p.num(x);
    p.bytes(c.idempotencyKey);
  }
  return p.done();
}

/** The casts of a message; their idempotency keys are views of its buffer. */
export function unpackCasts(ab: ArrayBuffer): (WireCast & { idempotencyKey: Buffer })[] {
  const u = new Unpacker(ab);
  const out = [];
  while (u.more) {
    const id = u.num();
    const electionId = u.num();
    const voterId = u.num();
    const choices = new Array<number>(u.num());
    for (let i = 0; i < choices.length; i++) choices[i] = u.num();
    out.push({ id, electionId, voterId, choices, idempotencyKey: u.bytes() });
  }
  return out;
}

// A commit's receipts share one checkpoint: it is packed once, and later receipts refer to it.
const NO_CHECKPOINT = -1;
const SAME_CHECKPOINT = -2;

/** Receipts with their answer ids. Absent optional fields stay absent on the other side. */
export function packReceipts(answers: { id: number; receipt: Receipt }[]): ArrayBuffer {
  let size = 0;
  let last: string | undefined;
  for (const { receipt: r } of answers) {
    size += 8 * 4 + strSize(r.ballotHash) + strSize(r.trackingCode) + 8 + 8;
    for (const h of r.inclusionPath ?? []) size += 8 + h.length;
    if (r.checkpoint !== undefined && r.checkpoint !== last) size += strSize((last = r.checkpoint));
  }
  const p = new Packer(size);
  last = undefined;
  for (const { id, receipt: r } of answers) {
    p.num(id);
    p.num(r.electionId);
    p.num(r.seq);
    p.num(r.leafIndex ?? NaN);
    p.str(r.ballotHash);
    p.str(r.trackingCode);
    if (r.checkpoint === undefined) p.num(NO_CHECKPOINT);
    else if (r.checkpoint === last) p.num(SAME_CHECKPOINT);
    else (p.num(0), p.str((last = r.checkpoint)));
    p.num(r.inclusionPath ? r.inclusionPath.length : NO_CHECKPOINT);
    for (const h of r.inclusionPath ?? []) p.bytes(h);
  }
  return p.done();
}

export function unpackReceipts(ab: ArrayBuffer): { id: number; receipt: Receipt }[] {
  const u = new Unpacker(ab);
  const out = [];
  let last = "";
  while (u.more) {
    const id = u.num();
    const receipt: Receipt = { electionId: u.num(), seq: u.num(), ballotHash: "", trackingCode: "" };
    const leafIndex = u.num();
    receipt.ballotHash = u.str();
    receipt.trackingCode = u.str();
    if (!Number.isNaN(leafIndex)) receipt.leafIndex = leafIndex;
    const checkpoint = u.num();
    if (checkpoint === 0) last = u.str();
    if (checkpoint !== NO_CHECKPOINT) receipt.checkpoint = last;
    const hashes = u.num();
    if (hashes !== NO_CHECKPOINT) {
      const path = new Array<Buffer>(hashes);
      for (let i = 0; i < hashes; i++) path[i] = u.bytes();
      receipt.inclusionPath = path;
    }
    out.push({ id, receipt });
  }
  return out;
}

// The ballot box answers with these kinds only; anything else is a failed commit.
const KINDS: Record<string, new (message: string, opts: DomainErrorOptions) => DomainError> = {
  "already-exists": AlreadyExistsError,
  "failed-precondition": FailedPreconditionError,
  unavailable: UnavailableError,
};

export function errorToWire(err: unknown): WireError {
  if (err instanceof DomainError && KINDS[err.kind]) {
    return { kind: err.kind, message: err.message, opts: { reason: err.reason, field: err.field, retryAfterMs: err.retryAfterMs, metadata: err.metadata } };
  }
  return { kind: "unavailable", message: "the ballot could not be recorded; retry with the same idempotency key", opts: { reason: "BALLOT_NOT_RECORDED" } };
}

export const errorFromWire = (e: WireError): DomainError => new KINDS[e.kind](e.message, e.opts);
