// The two ways readLog checks a format 2 log, over the message bytes and over decoded objects,
// must accept exactly the same logs, hand over the same entries and fail with the same finding;
// so must the byte-level checks run in a worker thread ahead of the consumer.
import { afterAll, describe, expect, it, vi } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createHash } from "node:crypto";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { ballotCommitment, chainHash, genesisHash, type LogEntryContent } from "@voting/election-core";
import { lazyStreamBallotsResponse, voteV1, type VotingClient } from "@voting/api";
import { choicesOfVarints, readLog, type CheckedBatch } from "./log-reader.js";
import { ByteMultiset } from "./byte-multiset.js";
import { SpanCheckWorker } from "./span-check-worker.js";

// One thread for every comparison below: readLog does not close a worker it is given.
const sharedWorker = new SpanCheckWorker();
afterAll(() => sharedWorker.close());

const definition = { id: 7, title: "T", method: "irv", seats: 1, candidateSource: "", candidates: [{ id: 1, name: "A" }, { id: 2, name: "B" }, { id: 3, name: "C" }] };
const GENESIS = genesisHash(2, definition);
const election = { id: 7, logFormat: 2, logGenesisHash: GENESIS } as voteV1.Election;

/** A valid format 2 log of n entries, as vote-server would send them. */
function validLog(n: number, over: (seq: number) => Partial<LogEntryContent> = () => ({})): voteV1.BallotLogEntry[] {
  let prev = GENESIS;
  const out: voteV1.BallotLogEntry[] = [];
  for (let seq = 1; seq <= n; seq++) {
    const choices = [1 + (seq % 3), 1 + ((seq + 1) % 3), ...(seq % 4 === 0 ? [] : [1 + ((seq + 2) % 3)])];
    // A salt with "f" as a high digit (see the alterations below).
    const salt = `f${createHash("sha256").update(`salt ${seq}`).digest("hex").slice(1, 62)}f0`;
    const base = { electionId: 7, seq, trackingCode: `CODE-${seq}`, choices, salt, ...over(seq) };
    const e: LogEntryContent = { ...base, commitment: ballotCommitment(base.salt, base.choices) };
    prev = chainHash(2, prev, e);
    out.push({ electionId: e.electionId, seq, trackingCode: e.trackingCode, ballot: { choices: [...e.choices!] }, hash: prev, commitment: e.commitment, salt: e.salt! });
  }
  return out;
}

const encode = (entries: voteV1.BallotLogEntry[]) => Buffer.from(voteV1.StreamBallotsResponse.encode({ entries }).finish());
/** Messages of `per` entries each. */
const messagesOf = (entries: voteV1.BallotLogEntry[], per = 4) => Array.from({ length: Math.ceil(entries.length / per) }, (_, i) => encode(entries.slice(i * per, (i + 1) * per)));

/** A client that streams these message bytes as the typed client does; counts decoded messages. */
function clientOf(messages: Buffer[], decoded: { n: number }): VotingClient {
  return {
    votes: {
      streamBallots: async () => {
        const msgs = messages.map((b) => {
          const m = lazyStreamBallotsResponse(b);
          const get = Object.getOwnPropertyDescriptor(m, "entries")!.get!;
          Object.defineProperty(m, "entries", { get: () => (decoded.n++, get.call(m)) });
          return m;
        });
        return Object.assign((async function* () {
          yield* msgs;
        })(), { cancel() {} });
      },
    },
  } as unknown as VotingClient;
}

/** Everything readLog hands over and returns (or throws), in a comparable form. */
async function read(messages: Buffer[], objectsOnly: boolean, worker: boolean | SpanCheckWorker = false) {
  const decoded = { n: 0 };
  const batches: unknown[] = [];
  const take = (b: CheckedBatch) => {
    const entries = Array.from({ length: b.length }, (_, i) => {
      const { leaf, ...e } = b.entry(i);
      return { ...e, leaf: leaf?.toString("hex"), hash: b.hash(i) };
    });
    // Counted by the bytes of their choices, read back (a longer varint may make another key).
    const counts = new ByteMultiset();
    b.countChoices(counts, b.length);
    const merged = new Map<string, number>();
    for (const [k, n] of counts.entries()) merged.set(choicesOfVarints(k).join(","), (merged.get(choicesOfVarints(k).join(",")) ?? 0) + n);
    const counted = [...merged].sort();
    batches.push({ firstSeq: b.firstSeq, length: b.length, leaves: b.leaves?.toString("hex"), entries, counted, lines: b.jsonLines().toString("utf8") });
  };
  try {
    const check = await readLog(clientOf(messages, decoded), election, take, { objectsOnly, worker });
    return { result: { check, batches }, decoded: decoded.n };
  } catch (err) {
    return { result: { error: (err as Error).message, batches }, decoded: decoded.n };
  }
}

async function expectSame(messages: Buffer[]) {
  const bytes = await read(messages, false);
  const objects = await read(messages, true);
  expect(bytes.result).toEqual(objects.result);
  const inWorker = await read(messages, false, sharedWorker);
  expect(inWorker.result).toEqual(objects.result);
  expect(inWorker.decoded).toBe(bytes.decoded);
  return bytes;
}

describe("readLog: the byte-level checks and the object-level checks agree", () => {
  it("when the log is intact, then both hand over the same entries, leaves and --out lines, without decoding a message", async () => {
    const messages = messagesOf(validLog(10));
    const { result, decoded } = await expectSame(messages);
    expect(result).toMatchObject({ check: { sealed: false, chainChecked: true, headSeq: 10, problem: undefined } });
    expect(decoded).toBe(0);
    const lines = (result as { batches: { lines: string }[] }).batches.map((b) => b.lines).join("");
    expect(lines.trim().split("\n").map((l) => JSON.parse(l).seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it("when numbers are as large as a plain message holds and tracking codes need escaping, then both write the same --out lines", async () => {
    const big = 2 ** 49 - 1;
    const log = validLog(6, (seq) => ({ electionId: big, trackingCode: seq % 2 ? "\u0001\u0002\u001f\u0000\"\\" : "", choices: [big, 2 ** 48, 127, 128, 0] }));
    const { result, decoded } = await expectSame(messagesOf(log));
    expect(result).toMatchObject({ check: { headSeq: 6, problem: undefined } });
    expect(decoded).toBe(0);
    const lines = (result as { batches: { lines: string }[] }).batches.map((b) => b.lines).join("").trim().split("\n");
    expect(JSON.parse(lines[0])).toMatchObject({ electionId: big, trackingCode: "\u0001\u0002\u001f\u0000\"\\", choices: [big, 2 ** 48, 127, 128, 0] });
  });

  it("when any field of an entry is altered, then both fail at that entry with the same finding", async () => {
    const log = validLog(10);
    const alterations: [string, (e: voteV1.BallotLogEntry) => void][] = [
      ["electionId", (e) => (e.electionId = 8)],
      ["seq", (e) => (e.seq += 1)],
      ["seq back", (e) => (e.seq -= 1)],
      ["trackingCode", (e) => (e.trackingCode += "X")],
      ["trackingCode quoted", (e) => (e.trackingCode = 'a"b\\c\n')],
      ["choices", (e) => (e.ballot!.choices = [...e.ballot!.choices].reverse())],
      ["choices dropped", (e) => (e.ballot!.choices = [])],
      ["ballot withheld", (e) => (e.ballot = undefined)],
      ["hash", (e) => (e.hash = e.hash.replace(/^./, (c) => (c === "0" ? "1" : "0")))],
      ["hash upper case", (e) => (e.hash = e.hash.toUpperCase())],
      ["hash short", (e) => (e.hash = e.hash.slice(0, 62))],
      ["commitment", (e) => (e.commitment = e.commitment.replace(/^./, (c) => (c === "0" ? "1" : "0")))],
      ["commitment upper case", (e) => (e.commitment = e.commitment.toUpperCase())],
      ["commitment empty", (e) => (e.commitment = "")],
      ["salt", (e) => (e.salt = e.salt.replace(/.$/, (c) => (c === "0" ? "1" : "0")))],
      ["salt upper case", (e) => (e.salt = e.salt.toUpperCase())],
      ["salt empty", (e) => (e.salt = "")],
      // Upper-case "F" where the high digit is "f": a careless decoding reads the same bytes.
      ["salt F", (e) => (e.salt = e.salt.replace(/../g, (pair) => (pair[0] === "f" ? `F${pair[1]}` : pair)))],
      ["salt Z", (e) => (e.salt = `${e.salt.slice(0, 62)}${e.salt[62] === "f" ? "Z" : e.salt[62]}${e.salt[63]}`)],
      ["salt not hex", (e) => (e.salt = `${e.salt.slice(0, 63)}g`)],
    ];
    for (const [name, alter] of alterations) {
      for (const at of [0, 5, 9]) {
        const entries = structuredClone(log);
        alter(entries[at]);
        const { result } = await expectSame(messagesOf(entries));
        expect(result, `${name} at ${at}`).toMatchObject({ check: { headSeq: expect.any(Number) } });
        const check = (result as { check: { problem?: unknown; sealed: boolean } }).check;
        expect(check.problem !== undefined || check.sealed, `${name} at ${at}`).toBe(true);
      }
    }
  });

  it("when entries are reordered, removed or repeated, or messages cut short, then both give the same finding or error", async () => {
    const log = validLog(12);
    const swapped = structuredClone(log);
    [swapped[5], swapped[6]] = [swapped[6], swapped[5]];
    await expectSame(messagesOf(swapped));
    await expectSame(messagesOf([...log.slice(0, 4), ...log.slice(5)]));
    await expectSame(messagesOf([...log.slice(0, 5), log[3], ...log.slice(5)]));
    const messages = messagesOf(log);
    for (let cut = 0; cut < messages[1].length; cut++) await expectSame([messages[0], messages[1].subarray(0, cut), messages[2]]);
  });

  it("when a message holds what vote-server does not send, then it is checked as objects, with the same outcome", async () => {
    const log = validLog(6, (seq) => (seq === 2 ? { trackingCode: "Ünïcode ✓" } : {}));
    const plain = messagesOf(log, 3);
    const w = (f: (w: BinaryWriter) => void) => {
      const x = new BinaryWriter();
      f(x);
      return Buffer.from(x.finish());
    };
    // An entry written field by field, with a twist.
    const entryWith = (e: voteV1.BallotLogEntry, twist: "unknown" | "longVarint" | "unpacked" | "twice" | "none") =>
      w((x) => {
        x.uint32(10).fork();
        x.uint32(8).uint64(e.electionId);
        if (twist === "longVarint") x.uint32(16).raw(Uint8Array.of(0x80 | (e.seq & 0x7f), 0x80 | (e.seq >> 7), 0x80, 0x80, 0x80, 0x80, 0x80, 0));
        else x.uint32(16).uint64(e.seq);
        x.uint32(26).string(e.trackingCode);
        if (twist === "unpacked") {
          x.uint32(34).fork();
          for (const c of e.ballot!.choices) x.uint32(8).uint64(c);
          x.join();
        } else x.uint32(34).fork().uint32(10).fork().raw(encodeChoices(e.ballot!.choices)).join().join();
        x.uint32(42).string(e.hash).uint32(50).string(e.commitment).uint32(58).string(e.salt);
        if (twist === "twice") x.uint32(58).string(e.salt);
        if (twist === "unknown") x.uint32(120).uint64(9);
        x.join();
      });
    const encodeChoices = (cs: number[]) => w((x) => cs.forEach((c) => x.uint64(c)));
    for (const twist of ["unknown", "longVarint", "unpacked", "twice", "none"] as const) {
      const second = Buffer.concat(log.slice(3).map((e) => entryWith(e, twist)));
      const { result } = await expectSame([plain[0], second]);
      expect(result, twist).toMatchObject({ check: { headSeq: 6, problem: undefined } });
    }
    // Non-ASCII tracking code in the first message: checked as objects, and it passes.
    const { result, decoded } = await expectSame(plain);
    expect(result).toMatchObject({ check: { headSeq: 6, problem: undefined } });
    expect(decoded).toBe(1);
  });

  it("when message bytes are corrupted at random, then both give the same outcome", async () => {
    const messages = messagesOf(validLog(8), 4);
    let seed = 9;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % 0x10000) / 0x10000;
    for (let i = 0; i < 600; i++) {
      const mutated = messages.map((m) => Buffer.from(m));
      const m = mutated[Math.floor(random() * 2)];
      for (let k = 1 + Math.floor(random() * 3); k > 0; k--) m[Math.floor(random() * m.length)] = Math.floor(random() * 256);
      await expectSame(mutated);
    }
  });
});

describe("readLog with a worker thread", () => {
  it("when the log is intact, then the worker's checks are taken, not repeated here", async () => {
    const messages = messagesOf(validLog(40), 4);
    const worker = new SpanCheckWorker();
    const check = worker.check.bind(worker);
    const answered: (Buffer | undefined)[] = [];
    worker.check = (...a) => check(...a).then((r) => (answered.push(r?.checked === a[2] ? r.leaves : undefined), r));
    try {
      const inWorker = await read(messages, false, worker);
      expect(inWorker.result).toEqual((await read(messages, true)).result);
      // Every batch carries the very leaves the worker sent back.
      const handed: (Buffer | undefined)[] = [];
      await readLog(clientOf(messages, { n: 0 }), election, (b) => void handed.push(b.leaves), { worker });
      expect(handed).toHaveLength(messages.length);
      handed.forEach((leaves, i) => expect(leaves).toBe(answered[messages.length + i]));
    } finally {
      worker.close();
    }
  });

  it("when the worker thread stops in the middle of a log, then the rest is checked here, with the same outcome", async () => {
    const log = validLog(40);
    const tampered = structuredClone(log);
    tampered[30].hash = tampered[30].hash.replace(/^./, (c) => (c === "0" ? "1" : "0"));
    for (const entries of [log, tampered]) {
      const messages = messagesOf(entries, 4);
      const worker = new SpanCheckWorker();
      const batches: number[] = [];
      const check = await readLog(clientOf(messages, { n: 0 }), election, (b) => {
        batches.push(b.firstSeq);
        if (batches.length === 2) worker.close();
      }, { worker });
      const objects = await readLog(clientOf(messages, { n: 0 }), election, () => {}, { objectsOnly: true });
      expect(check).toEqual(objects);
      expect(worker.alive).toBe(false);
      expect(batches[0]).toBe(1);
    }
  });

  it("when readLog starts its own worker, then it stops it on every way out: the end, a finding, a consumer's error, a stream's error, a refused stream", async () => {
    const closed = vi.spyOn(SpanCheckWorker.prototype, "close");
    try {
      const log = validLog(20);
      const broken = structuredClone(log);
      broken[10].salt = "";
      expect((await readLog(clientOf(messagesOf(log), { n: 0 }), election, () => {}, { worker: true })).problem).toBeUndefined();
      expect((await readLog(clientOf(messagesOf(broken), { n: 0 }), election, () => {}, { worker: true })).problem?.seq).toBe(11);
      await expect(
        readLog(clientOf(messagesOf(log), { n: 0 }), election, () => {
          throw new Error("disk full");
        }, { worker: true }),
      ).rejects.toThrow("disk full");
      const failing = {
        votes: {
          streamBallots: async () =>
            Object.assign(
              (async function* () {
                yield lazyStreamBallotsResponse(messagesOf(log)[0]);
                throw new Error("14 UNAVAILABLE: connection dropped");
              })(),
              { cancel() {} },
            ),
        },
      } as unknown as VotingClient;
      await expect(readLog(failing, election, () => {}, { worker: true })).rejects.toThrow("connection dropped");
      const refused = { votes: { streamBallots: async () => Promise.reject(new Error("7 PERMISSION_DENIED: no")) } } as unknown as VotingClient;
      await expect(readLog(refused, election, () => {}, { worker: true })).rejects.toThrow("PERMISSION_DENIED");
      expect(closed).toHaveBeenCalledTimes(5);
    } finally {
      closed.mockRestore();
    }
  });

  it("when the consumer fails while the worker still has messages, then the process exits with the error (no thread left running)", () => {
    // A separate Node process on the built code: it must end by itself, the error printed.
    const dir = mkdtempSync(join(tmpdir(), "log-reader-worker-"));
    try {
      const messages = messagesOf(validLog(200), 10);
      writeFileSync(join(dir, "messages.json"), JSON.stringify(messages.map((m) => m.toString("base64"))));
      const script = `
        import { readFileSync } from "node:fs";
        import { lazyStreamBallotsResponse } from "@voting/api";
        import { readLog } from "${new URL("../../dist/cli/log-reader.js", import.meta.url).href}";
        const messages = JSON.parse(readFileSync(process.argv[1], "utf8")).map((b) => lazyStreamBallotsResponse(Buffer.from(b, "base64")));
        const client = { votes: { streamBallots: async () => Object.assign((async function* () { yield* messages; })(), { cancel() {} }) } };
        await readLog(client, ${JSON.stringify(election)}, (b) => { if (b.firstSeq > 20) throw new Error("consumer failed at " + b.firstSeq); }, { worker: true })
          .catch((err) => console.log(err.message));`;
      const run = spawnSync(process.execPath, ["--input-type=module", "-e", script, join(dir, "messages.json")], { cwd: fileURLToPath(new URL(".", import.meta.url)), encoding: "utf8", timeout: 30_000 });
      expect(run.stderr).toBe("");
      expect(run.stdout.trim()).toBe("consumer failed at 21");
      expect(run.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
