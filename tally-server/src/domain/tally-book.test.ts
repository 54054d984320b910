import { describe, expect, it, vi } from "vitest";
import { getEventListeners } from "node:events";
import { ballotCommitment, chainHash, genesisHash } from "@voting/election-core";
import { randomBytes } from "node:crypto";
import { createLogger } from "@voting/server-kit";
import type { TallyRepository, TallySnapshot } from "../db/tally-repository.js";
import { tallyBook, type Entry, type VotePort } from "./tally-book.js";

const definition = { id: 1, title: "E", method: "plurality", seats: 1, candidateSource: "registered_users", candidates: [] };
const genesis = genesisHash(2, definition);

function log(n: number, tamperAt?: number, sealAt?: number): Entry[] {
  let hash = genesis;
  const out: Entry[] = [];
  for (let seq = 1; seq <= n; seq++) {
    const choices = [seq % 2 === 0 ? 3 : 4];
    const salt = randomBytes(32).toString("hex");
    const e = { electionId: 1, seq, trackingCode: `T${seq}`, commitment: ballotCommitment(salt, choices), choices, salt };
    hash = chainHash(2, hash, e);
    out.push({ ...e, hash, ...(seq === tamperAt ? { choices: [99] } : {}), ...(seq === sealAt ? { choices: undefined, salt: undefined } : {}) });
  }
  return out;
}

/** The store as the tally sees it: each election's progress and counts change together or not at all; `saved`: election 1's. */
function memoryRepo(): TallyRepository & { saved?: TallySnapshot; stored: Map<number, TallySnapshot> } {
  const stored = new Map<number, TallySnapshot>();
  const repo: TallyRepository & { saved?: TallySnapshot; stored: Map<number, TallySnapshot> } = {
    stored,
    get saved() {
      return stored.get(1);
    },
    async load(id) {
      const s = stored.get(id);
      return s && { ...s, ballots: new Map(s.ballots) };
    },
    async apply(changes) {
      return changes.map(({ electionId, fromSeq, to, delta }) => {
        const saved = stored.get(electionId);
        if ((saved?.lastSeq ?? 0) !== fromSeq) return false;
        const ballots = new Map(saved?.ballots);
        for (const [k, n] of delta) ballots.set(k, (ballots.get(k) ?? 0) + n);
        stored.set(electionId, { lastSeq: to.seq, lastHash: to.hash, ballots });
        return true;
      });
    },
  };
  return repo;
}

function votePort(entries: Entry[], batch = 3): VotePort & { streams: number } {
  const port = {
    streams: 0,
    async getElection() {
      return { id: 1, title: "E", method: "plurality" as const, seats: 1, state: "open" as const, resultsWhileOpen: true, ballotCount: entries.length, genesisHash: genesis, logFormat: 2 as const, candidates: [] };
    },
    async listElections() {
      return [{ id: 1, state: "open" as const }];
    },
    async *streamBallots(_id: number, afterSeq: number, signal: AbortSignal) {
      port.streams++;
      const rest = entries.filter((e) => e.seq > afterSeq);
      for (let i = 0; i < rest.length; i += batch) yield rest.slice(i, i + batch);
      if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    },
  };
  return port;
}

const quiet = createLogger("test", "silent");

/** Records the number of entries each transaction commits. */
function transactionSizes(repo: TallyRepository): number[] {
  const inner = repo.apply;
  const sizes: number[] = [];
  repo.apply = async (changes) => {
    for (const c of changes) sizes.push(c.to.seq - c.fromSeq);
    return inner(changes);
  };
  return sizes;
}

/** Pages 10 ms apart, as a busy vote-server sends them. */
function slowPages(votes: VotePort) {
  const stream = votes.streamBallots;
  votes.streamBallots = async function* (...args) {
    for await (const b of stream(...args)) {
      await new Promise((r) => setTimeout(r, 10));
      yield b;
    }
  };
}

async function runUntil(book: ReturnType<typeof tallyBook>, done: () => boolean, controller: AbortController) {
  const running = book.run(controller.signal, 50);
  for (let i = 0; i < 400 && !done(); i++) await new Promise((r) => setTimeout(r, 5));
  return { running };
}

/** Several elections' logs (each its own chain, as log() makes election 1's), live: a batch of each every few ms. */
function electionsPort(logs: Map<number, Entry[]>, batch = 2, everyMs = 2): VotePort {
  return {
    async getElection(id) {
      return { id, title: "E", method: "plurality" as const, seats: 1, state: "open" as const, resultsWhileOpen: true, ballotCount: 0, genesisHash: genesis, logFormat: 2 as const, candidates: [] };
    },
    async listElections() {
      return [...logs.keys()].map((id) => ({ id, state: "open" as const }));
    },
    async *streamBallots(id: number, afterSeq: number, signal: AbortSignal) {
      const rest = logs.get(id)!.filter((e) => e.seq > afterSeq);
      for (let i = 0; i < rest.length && !signal.aborted; i += batch) {
        await new Promise((r) => setTimeout(r, everyMs));
        yield rest.slice(i, i + batch);
      }
      if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    },
  };
}

const ELECTIONS = [1, 2, 3];
const allCounted = (repo: ReturnType<typeof memoryRepo>, n: number) => ELECTIONS.every((id) => repo.stored.get(id)?.lastSeq === n);

describe("tally book", () => {
  it("counts every entry once and leaves no listeners behind on the stop signal", async () => {
    const repo = memoryRepo();
    const controller = new AbortController();
    const book = tallyBook({ repo, votes: votePort(log(60)), log: quiet, onCounted() {}, onChainBroken() {}, minApplyIntervalMs: 1 });
    const { running } = await runUntil(book, () => repo.saved?.lastSeq === 60, controller);
    expect(repo.saved!.ballots).toEqual(new Map([["3", 30], ["4", 30]]));
    expect(getEventListeners(controller.signal, "abort").length).toBeLessThan(5);
    controller.abort();
    await running;
  });

  it("when result() has read an election, then peekResult gives the same info and live state at once, until the info is refreshed or a second old", async () => {
    const book = tallyBook({ repo: memoryRepo(), votes: votePort(log(0)), log: quiet, onCounted() {}, onChainBroken() {} });
    expect(book.peekResult(1)).toBeUndefined();
    const read = await book.result(1);
    const peeked = book.peekResult(1)!;
    expect(peeked.info).toBe(read.info);
    expect(peeked.state).toBe(read.state);
    book.refreshInfo(1);
    expect(book.peekResult(1)).toBeUndefined();
    await book.result(1);
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      expect(book.peekResult(1)).toBeDefined();
      vi.setSystemTime(Date.now() + 1_000);
      expect(book.peekResult(1)).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });

  it("resumes from the stored progress without counting anything twice", async () => {
    const repo = memoryRepo();
    const entries = log(10);
    let controller = new AbortController();
    let { running } = await runUntil(tallyBook({ repo, votes: votePort(entries.slice(0, 4)), log: quiet, onCounted() {}, onChainBroken() {} }), () => repo.saved?.lastSeq === 4, controller);
    controller.abort();
    await running;
    controller = new AbortController();
    ({ running } = await runUntil(tallyBook({ repo, votes: votePort(entries), log: quiet, onCounted() {}, onChainBroken() {} }), () => repo.saved?.lastSeq === 10, controller));
    controller.abort();
    await running;
    expect(repo.saved!.ballots).toEqual(new Map([["3", 5], ["4", 5]]));
  });

  it("stops counting at a broken chain and reports where", async () => {
    const repo = memoryRepo();
    const broken: string[] = [];
    const controller = new AbortController();
    const book = tallyBook({ repo, votes: votePort(log(9, 5), 1), log: quiet, onCounted() {}, onChainBroken: (_id, reason) => broken.push(reason) });
    const { running } = await runUntil(book, () => broken.length > 0, controller);
    controller.abort();
    await running;
    expect(broken).toEqual(["the ballot of entry 5 does not open its commitment"]);
    expect(repo.saved!.lastSeq).toBe(4);
  });

  it("stops counting at an entry whose ballot is withheld, rather than counting it as empty", async () => {
    const repo = memoryRepo();
    const broken: string[] = [];
    const controller = new AbortController();
    const book = tallyBook({ repo, votes: votePort(log(9, undefined, 6), 1), log: quiet, onCounted() {}, onChainBroken: (_id, reason) => broken.push(reason) });
    const { running } = await runUntil(book, () => broken.length > 0, controller);
    controller.abort();
    await running;
    expect(broken).toEqual(["the ballot of entry 6 is withheld"]);
    expect(repo.saved!.lastSeq).toBe(5);
  });

  it("when entries arrive while a transaction runs, then they wait for the next one together: few transactions, every ballot once", async () => {
    const repo = memoryRepo();
    const inner = repo.apply;
    const sizes: number[] = [];
    repo.apply = async (changes) => {
      for (const c of changes) sizes.push(c.to.seq - c.fromSeq);
      await new Promise((r) => setTimeout(r, 20));
      return inner(changes);
    };
    const controller = new AbortController();
    const book = tallyBook({ repo, votes: votePort(log(300), 1), log: quiet, onCounted() {}, onChainBroken() {}, minApplyIntervalMs: 1 });
    const { running } = await runUntil(book, () => repo.saved?.lastSeq === 300, controller);
    controller.abort();
    await running;
    expect(repo.saved!.ballots).toEqual(new Map([["3", 150], ["4", 150]]));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(300);
    expect(sizes.length).toBeLessThan(100);
  });

  it("when a tally transaction fails, then counting resumes from the stored progress without counting anything twice", async () => {
    const repo = memoryRepo();
    const inner = repo.apply;
    let calls = 0;
    repo.apply = async (...args) => {
      if (++calls === 2) throw new Error("database went away");
      return inner(...args);
    };
    const controller = new AbortController();
    const book = tallyBook({ repo, votes: votePort(log(40), 2), log: quiet, onCounted() {}, onChainBroken() {}, minApplyIntervalMs: 1 });
    const { running } = await runUntil(book, () => repo.saved?.lastSeq === 40, controller);
    controller.abort();
    await running;
    expect(calls).toBeGreaterThan(2);
    expect(repo.saved!.ballots).toEqual(new Map([["3", 20], ["4", 20]]));
  });

  it("when maxPendingEntries wait for a transaction, then the stream is not read further until it commits", async () => {
    const repo = memoryRepo();
    const inner = repo.apply;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    repo.apply = async (...args) => {
      await held;
      return inner(...args);
    };
    const votes = votePort(log(100), 5);
    let read = 0;
    const stream = votes.streamBallots;
    votes.streamBallots = async function* (...args) {
      for await (const b of stream(...args)) {
        read += b.length;
        yield b;
      }
    };
    const controller = new AbortController();
    const book = tallyBook({ repo, votes, log: quiet, onCounted() {}, onChainBroken() {}, minApplyIntervalMs: 1, maxPendingEntries: 20 });
    const running = book.run(controller.signal, 50);
    await new Promise((r) => setTimeout(r, 200));
    // The first transaction holds 5 entries; then 20 more may wait before reading stops.
    expect(read).toBeLessThanOrEqual(5 + 20 + 5);
    release();
    for (let i = 0; i < 400 && repo.saved?.lastSeq !== 100; i++) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    await running;
    expect(repo.saved!.ballots).toEqual(new Map([["3", 50], ["4", 50]]));
  });

  it("when a backlog streams in, then it is committed in few transactions, the last as soon as the log's head (when the stream started) is in, every ballot once", async () => {
    const repo = memoryRepo();
    const sizes = transactionSizes(repo);
    const votes = votePort(log(6_000), 1_000);
    slowPages(votes);
    const controller = new AbortController();
    const book = tallyBook({ repo, votes, log: quiet, onCounted() {}, onChainBroken() {}, minApplyIntervalMs: 1, catchUpMaxMs: 60_000 });
    const { running } = await runUntil(book, () => repo.saved?.lastSeq === 6_000, controller);
    controller.abort();
    await running;
    expect(repo.saved!.ballots).toEqual(new Map([["3", 3_000], ["4", 3_000]]));
    // The first page at once, the other five together at the head (not one per page).
    expect(sizes).toEqual([1_000, 5_000]);
  });

  it("when tally-server dies inside a transaction in the middle of a catch-up, then the next one resumes from the stored progress and counts every ballot exactly once", async () => {
    const repo = memoryRepo();
    const entries = log(5_000);
    const inner = repo.apply;
    let calls = 0;
    let died!: () => void;
    const dead = new Promise<void>((r) => (died = r));
    // The second transaction never commits: the process is gone with it.
    repo.apply = (...args) => (++calls === 2 ? (died(), new Promise<boolean[]>(() => {})) : inner(...args));
    const first = tallyBook({ repo, votes: votePort(entries, 1_000), log: quiet, onCounted() {}, onChainBroken() {}, minApplyIntervalMs: 1, catchUpEntries: 1_000 });
    const gone = new AbortController();
    void first.run(gone.signal, 50);
    await dead;
    gone.abort();
    const committed = repo.saved!.lastSeq;
    expect(committed).toBeGreaterThan(0);
    expect(committed).toBeLessThan(5_000);
    expect([...repo.saved!.ballots.values()].reduce((a, b) => a + b, 0)).toBe(committed);

    repo.apply = inner;
    const controller = new AbortController();
    const { running } = await runUntil(tallyBook({ repo, votes: votePort(entries, 1_000), log: quiet, onCounted() {}, onChainBroken() {} }), () => repo.saved?.lastSeq === 5_000, controller);
    controller.abort();
    await running;
    expect(repo.saved!.ballots).toEqual(new Map([["3", 2_500], ["4", 2_500]]));
    expect(repo.saved!.lastHash).toBe(entries[4_999].hash);
  });

  it("when a backlog reaches catchUpEntries, then it is committed without waiting for the rest of it", async () => {
    const repo = memoryRepo();
    const sizes = transactionSizes(repo);
    const votes = votePort(log(6_000), 1_000);
    slowPages(votes);
    const controller = new AbortController();
    const book = tallyBook({ repo, votes, log: quiet, onCounted() {}, onChainBroken() {}, minApplyIntervalMs: 1, catchUpEntries: 2_000, catchUpMaxMs: 60_000 });
    const { running } = await runUntil(book, () => repo.saved?.lastSeq === 6_000, controller);
    controller.abort();
    await running;
    expect(repo.saved!.ballots).toEqual(new Map([["3", 3_000], ["4", 3_000]]));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(6_000);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(2_000);
  });
  it("when several elections are followed live, then one transaction holds the entries of several of them, and each is counted once", async () => {
    const repo = memoryRepo();
    const inner = repo.apply;
    const elections: number[] = [];
    repo.apply = async (changes) => {
      elections.push(changes.length);
      return inner(changes);
    };
    const controller = new AbortController();
    const book = tallyBook({ repo, votes: electionsPort(new Map(ELECTIONS.map((id) => [id, log(60)]))), log: quiet, onCounted() {}, onChainBroken() {}, minApplyIntervalMs: 20 });
    const { running } = await runUntil(book, () => allCounted(repo, 60), controller);
    controller.abort();
    await running;
    for (const id of ELECTIONS) expect(repo.stored.get(id)!.ballots).toEqual(new Map([["3", 30], ["4", 30]]));
    expect(Math.max(...elections)).toBe(ELECTIONS.length);
    expect(elections.length).toBeLessThan(60);
  });

  it("when another tally-server moved one election's progress, then a shared transaction still counts the others, and that one starts again from the store", async () => {
    const repo = memoryRepo();
    const inner = repo.apply;
    const logs = new Map(ELECTIONS.map((id) => [id, log(40)]));
    let moved = false;
    repo.apply = async (changes) => {
      // Another tally-server counts election 2's first 10 entries right before ours commits.
      if (!moved && changes.length > 1 && changes.some((c) => c.electionId === 2)) {
        moved = true;
        await inner([{ electionId: 2, fromSeq: 0, to: { seq: 10, hash: logs.get(2)![9].hash }, delta: new Map([["3", 5], ["4", 5]]) }]);
      }
      return inner(changes);
    };
    const controller = new AbortController();
    const book = tallyBook({ repo, votes: electionsPort(logs), log: quiet, onCounted() {}, onChainBroken() {}, minApplyIntervalMs: 10 });
    const { running } = await runUntil(book, () => allCounted(repo, 40), controller);
    controller.abort();
    await running;
    expect(moved).toBe(true);
    for (const id of ELECTIONS) expect(repo.stored.get(id)!.ballots).toEqual(new Map([["3", 20], ["4", 20]]));
    expect(repo.stored.get(2)!.lastHash).toBe(logs.get(2)![39].hash);
  });

  it("when a transaction of several elections fails, then each resumes from its stored progress without counting anything twice", async () => {
    const repo = memoryRepo();
    const inner = repo.apply;
    let failed = 0;
    repo.apply = async (changes) => {
      if (changes.length > 1 && failed++ === 0) throw new Error("database went away");
      return inner(changes);
    };
    const controller = new AbortController();
    const book = tallyBook({ repo, votes: electionsPort(new Map(ELECTIONS.map((id) => [id, log(40)]))), log: quiet, onCounted() {}, onChainBroken() {}, minApplyIntervalMs: 10 });
    const { running } = await runUntil(book, () => allCounted(repo, 40), controller);
    controller.abort();
    await running;
    expect(failed).toBeGreaterThan(0);
    for (const id of ELECTIONS) expect(repo.stored.get(id)!.ballots).toEqual(new Map([["3", 20], ["4", 20]]));
  });

  it("when tally-server dies inside a transaction of several elections, then the next one resumes each from its stored progress and counts every ballot exactly once", async () => {
    const repo = memoryRepo();
    const logs = new Map(ELECTIONS.map((id) => [id, log(50)]));
    const inner = repo.apply;
    let died!: () => void;
    const dead = new Promise<void>((r) => (died = r));
    let calls = 0;
    repo.apply = (changes) => (changes.length > 1 && ++calls === 2 ? (died(), new Promise<boolean[]>(() => {})) : inner(changes));
    const gone = new AbortController();
    void tallyBook({ repo, votes: electionsPort(logs), log: quiet, onCounted() {}, onChainBroken() {}, minApplyIntervalMs: 10 }).run(gone.signal, 50);
    await dead;
    gone.abort();
    for (const id of ELECTIONS) {
      const s = repo.stored.get(id);
      expect([...(s?.ballots.values() ?? [])].reduce((a, b) => a + b, 0)).toBe(s?.lastSeq ?? 0);
    }
    repo.apply = inner;
    const controller = new AbortController();
    const { running } = await runUntil(tallyBook({ repo, votes: electionsPort(logs), log: quiet, onCounted() {}, onChainBroken() {} }), () => allCounted(repo, 50), controller);
    controller.abort();
    await running;
    for (const id of ELECTIONS) {
      expect(repo.stored.get(id)!.ballots).toEqual(new Map([["3", 25], ["4", 25]]));
      expect(repo.stored.get(id)!.lastHash).toBe(logs.get(id)![49].hash);
    }
  });
});
