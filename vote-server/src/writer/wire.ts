// Messages between vote-server's event loop and its ballot writer thread. Buffers cross as
// Uint8Arrays of their own exact size: structured cloning copies a view's whole ArrayBuffer,
// and a small Buffer is a view of an 8 KiB pool.
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

export interface WireCast {
  id: number;
  electionId: number;
  voterId: number;
  choices: number[];
  idempotencyKey: Uint8Array;
}

/** A receipt with its inclusion path as one byte array of 32-byte hashes. */
export type WireReceipt = Omit<Receipt, "inclusionPath"> & { path?: Uint8Array };

export interface WireError {
  kind: string;
  message: string;
  opts: DomainErrorOptions;
}

export type ToWriter = { t: "key"; key: LogKey } | { t: "cast"; casts: WireCast[] } | { t: "close" };

export type FromWriter =
  | { t: "answers"; answers: ({ id: number; receipt: WireReceipt } | { id: number; error: WireError })[] }
  | { t: "appended"; electionId: number; headSeq: number; rows: LogRow[] }
  | { t: "committed"; batchSize: number; appended: number }
  | { t: "failed"; electionId: number; batchSize: number; message: string; code?: string };

export const ownBytes = (b: Uint8Array): Uint8Array => new Uint8Array(b);

export const asBuffer = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

export function receiptToWire({ inclusionPath, ...rest }: Receipt): WireReceipt {
  if (!inclusionPath) return rest;
  const path = new Uint8Array(32 * inclusionPath.length);
  inclusionPath.forEach((h, i) => path.set(h, 32 * i));
  return { ...rest, path };
}

export function receiptFromWire({ path, ...rest }: WireReceipt): Receipt {
  if (!path) return rest;
  const all = asBuffer(path);
  return { ...rest, inclusionPath: Array.from({ length: all.length / 32 }, (_, i) => all.subarray(32 * i, 32 * i + 32)) };
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
