// The packed messages between the event loop and the ballot writer thread: what goes in comes
// out, field for field, also after the buffer was transferred to another thread.
import { describe, expect, it } from "vitest";
import { MessageChannel, receiveMessageOnPort } from "node:worker_threads";
import { randomBytes } from "node:crypto";
import type { Receipt } from "../domain/receipts.js";
import { packCasts, packReceipts, unpackCasts, unpackReceipts, type WireCast } from "./wire.js";

/** Sends the buffer through a port, transferred, as the writer does. */
function transferred(ab: ArrayBuffer): ArrayBuffer {
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(ab, [ab]);
  const got = receiveMessageOnPort(port2)!.message as ArrayBuffer;
  port1.close();
  expect(ab.byteLength).toBe(0); // detached: moved, not copied
  return got;
}

describe("writer wire format", () => {
  it("casts come out as they went in: ids, elections, voters, choices and keys of any allowed size", () => {
    const casts: WireCast[] = [
      { id: 1, electionId: 1, voterId: 7, choices: [3], idempotencyKey: randomBytes(16) },
      { id: 2 ** 40, electionId: 2 ** 53 - 1, voterId: 2 ** 52 + 3, choices: [], idempotencyKey: randomBytes(64) },
      { id: 3, electionId: 12, voterId: 1, choices: Array.from({ length: 100 }, (_, i) => 1000 - i), idempotencyKey: Buffer.alloc(32, 0xff) },
      // A pooled Buffer's view (a key parsed from a request is one): only its own bytes go.
      { id: 4, electionId: 5, voterId: 2, choices: [2, 1], idempotencyKey: Buffer.from("a-key-of-twenty-bytes") },
    ];
    const out = unpackCasts(transferred(packCasts(casts)));
    expect(out.map((c) => ({ ...c, idempotencyKey: Buffer.from(c.idempotencyKey) }))).toEqual(casts.map((c) => ({ ...c, idempotencyKey: Buffer.from(c.idempotencyKey) })));
    expect(Buffer.isBuffer(out[0].idempotencyKey)).toBe(true);
  });

  it("an empty batch packs to nothing and back", () => {
    expect(unpackCasts(packCasts([]))).toEqual([]);
    expect(unpackReceipts(packReceipts([]))).toEqual([]);
  });

  it("receipts come out as they went in; absent proof fields stay absent; one commit's checkpoint is sent once and shared", () => {
    const checkpoint = "vote.example/election/1\n3\nq2nL0Q==\n\n— vote.example AAAA\n";
    const other = "vote.example/election/2\n1\nxyz=\n\n— vote.example BBBB\n";
    const h = () => randomBytes(32);
    const receipts: Receipt[] = [
      { electionId: 1, seq: 1, ballotHash: "ab".repeat(32), trackingCode: "0123456789ABCDEFGHJKMNPQRS", leafIndex: 0, checkpoint, inclusionPath: [h(), h()] },
      { electionId: 1, seq: 2, ballotHash: "cd".repeat(32), trackingCode: "Z123456789ABCDEFGHJKMNPQRS", leafIndex: 1, checkpoint, inclusionPath: [h(), h()] },
      // A format 1 election's receipt: no proof at all.
      { electionId: 9, seq: 2 ** 50, ballotHash: "ef".repeat(32), trackingCode: "T123456789ABCDEFGHJKMNPQRS" },
      // Another election in the same commit; leaf 0 of a one-leaf tree has an empty path.
      { electionId: 2, seq: 1, ballotHash: "éü∑".repeat(3), trackingCode: "Y123456789ABCDEFGHJKMNPQRS", leafIndex: 0, checkpoint: other, inclusionPath: [] },
      { electionId: 1, seq: 3, ballotHash: "01".repeat(32), trackingCode: "X123456789ABCDEFGHJKMNPQRS", leafIndex: 2, checkpoint, inclusionPath: [h()] },
    ];
    const answers = receipts.map((receipt, i) => ({ id: 100 + i, receipt }));
    const packed = packReceipts(answers);
    const out = unpackReceipts(transferred(packed));
    expect(out).toEqual(answers);
    expect("leafIndex" in out[2].receipt || "checkpoint" in out[2].receipt || "inclusionPath" in out[2].receipt).toBe(false);
    // The shared checkpoint travels twice (election 1, then again after election 2's), not per receipt.
    expect(packed.byteLength).toBeLessThan(answers.length * 300);
  });
});
