import { describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { checkChain, genesisHash } from "@voting/election-core";
import type { AppendPlan, BallotRepository, Participation } from "../db/ballot-repository.js";
import { ballotBox } from "./ballot-box.js";
import { defaultElection, type Election } from "./elections.js";

/** The repository's contract in memory: one transaction at a time, all or nothing, any number of elections. */
function memoryRepo(...elections: Election[]) {
  const state = {
    elections: new Map((elections.length > 0 ? elections : [defaultElection()]).map((e) => [e.id, e])),
    participations: new Map<number, Map<number, Participation>>(),
    entries: [] as AppendPlan["entries"],
    transactions: 0,
  };
  const voted = (electionId: number) => state.participations.get(electionId) ?? new Map<number, Participation>();
  const repo: BallotRepository = {
    async append(requests, plan) {
      state.transactions++;
      const results = new Map();
      for (const { electionId, voterIds } of [...requests].sort((a, b) => a.electionId - b.electionId)) {
        const existing = new Map(voterIds.filter((v) => voted(electionId).has(v)).map((v) => [v, voted(electionId).get(v)!]));
        const { plan: p, result } = plan(state.elections.get(electionId)!, existing, undefined);
        results.set(electionId, result);
        if (!p) continue;
        state.participations.set(electionId, voted(electionId));
        for (const x of p.participations) voted(electionId).set(x.voterId, x);
        state.entries.push(...p.entries);
        state.elections.set(electionId, { ...state.elections.get(electionId)!, headSeq: p.head.seq, headHash: p.head.hash });
      }
      return results;
    },
    readLog: async () => [],
    ledger: async () => ({ headSeq: 0, headHash: "", ballots: 0, maxSeq: 0, turnout: 0 }),
    findByTrackingCode: async () => undefined,
    votedIn: async () => new Set(),
  };
  return { repo, state, voted };
}

const key = () => randomBytes(32);

describe("ballot box", () => {
  it("commits ballots that arrive together in one transaction, in random seq order, with an intact chain", async () => {
    const { repo, state, voted } = memoryRepo();
    const box = ballotBox(repo, { batchMax: 500, lingerMs: 0, onAppended() {} });
    const receipts = await Promise.all(Array.from({ length: 100 }, (_, i) => box.cast({ electionId: 1, voterId: i + 1, choices: [3], idempotencyKey: key() })));
    expect(state.transactions).toBe(1);
    expect(receipts.map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    // Arrival order is voter order; seq order must not give it away.
    expect(receipts.map((r) => r.seq)).not.toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const chain = checkChain(2, { seq: 0, hash: defaultElection().genesisHash }, state.entries.map((e) => ({ ...e, choices: e.choices.split(",").map(Number) })), { requireBallots: true });
    expect(chain.ok).toBe(true);
    // Format 2: each entry has its own salt, so identical ballots have different commitments.
    expect(new Set(state.entries.map((e) => e.salt)).size).toBe(100);
    expect(new Set(state.entries.map((e) => e.commitment)).size).toBe(100);
    // Participation rows carry no seq, hash or tracking code, and are written in voter order.
    expect([...voted(1).keys()]).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    for (const p of voted(1).values()) expect(Object.keys(p).sort()).toEqual(["commitment", "sealedReceipt", "voterId"]);
  });

  it("when an election keeps log format 1, then its entries hash the choices, with no salt or commitment", async () => {
    const v1 = { ...defaultElection(), logFormat: 1 as const, genesisHash: genesisHash(1, { id: 1, title: "General election", method: "plurality", seats: 1, candidateSource: "registered_users", candidates: [] }) };
    const { repo, state } = memoryRepo({ ...v1, headHash: v1.genesisHash });
    const box = ballotBox(repo, { batchMax: 500, lingerMs: 0, onAppended() {} });
    await Promise.all([1, 2, 3].map((voterId) => box.cast({ electionId: 1, voterId, choices: [3], idempotencyKey: key() })));
    expect(state.entries.every((e) => e.salt === "" && e.commitment === "")).toBe(true);
    const chain = checkChain(1, { seq: 0, hash: v1.genesisHash }, state.entries.map((e) => ({ ...e, choices: e.choices.split(",").map(Number) })));
    expect(chain).toMatchObject({ ok: true, headSeq: 3 });
  });

  it("gives a retry with the same key and ballot the original receipt, in the same batch or later", async () => {
    const { repo, state } = memoryRepo();
    const box = ballotBox(repo, { batchMax: 500, lingerMs: 0, onAppended() {} });
    const k = key();
    const [a, b] = await Promise.all([box.cast({ electionId: 1, voterId: 7, choices: [3], idempotencyKey: k }), box.cast({ electionId: 1, voterId: 7, choices: [3], idempotencyKey: k })]);
    expect(b).toEqual(a);
    expect(await box.cast({ electionId: 1, voterId: 7, choices: [3], idempotencyKey: k })).toEqual(a);
    await expect(box.cast({ electionId: 1, voterId: 7, choices: [4], idempotencyKey: k })).rejects.toMatchObject({ kind: "already-exists" });
    await expect(box.cast({ electionId: 1, voterId: 7, choices: [3], idempotencyKey: key() })).rejects.toMatchObject({ kind: "already-exists" });
    expect(state.entries).toHaveLength(1);
  });

  it("refuses every ballot of a batch when the election is not open, and records nothing", async () => {
    const { repo, state, voted } = memoryRepo({ ...defaultElection(), state: "closed" });
    const box = ballotBox(repo, { batchMax: 500, lingerMs: 0, onAppended() {} });
    await expect(box.cast({ electionId: 1, voterId: 1, choices: [3], idempotencyKey: key() })).rejects.toMatchObject({ kind: "failed-precondition" });
    expect(state.entries).toHaveLength(0);
    expect(voted(1).size).toBe(0);
  });

  it("answers UNAVAILABLE for the whole batch when the commit fails, so clients retry with their key", async () => {
    const { repo } = memoryRepo();
    const failing: BallotRepository = { ...repo, append: async () => Promise.reject(new Error("disk full")) };
    const box = ballotBox(failing, { batchMax: 500, lingerMs: 0, onAppended() {} });
    await expect(box.cast({ electionId: 1, voterId: 1, choices: [3], idempotencyKey: key() })).rejects.toMatchObject({ kind: "unavailable" });
  });

  it("commits the waiting ballots of several elections in one transaction, each on its own chain, and refuses those of a closed one", async () => {
    const open = (id: number): Election => ({ ...defaultElection(), id, genesisHash: `${id}`.repeat(64).slice(0, 64), headHash: `${id}`.repeat(64).slice(0, 64) });
    const { repo, state, voted } = memoryRepo(open(1), open(2), open(3), { ...open(4), state: "closed" });
    const commits: [number, number][] = [];
    const heads: [number, number, number][] = [];
    const box = ballotBox(repo, { batchMax: 500, lingerMs: 0, onAppended: (id, head, rows) => heads.push([id, head, rows.length]), onCommitted: (n, appended) => commits.push([n, appended]) });
    const casts = [4, 3, 2, 1].flatMap((electionId) => Array.from({ length: 5 }, (_, i) => box.cast({ electionId, voterId: i + 1, choices: [3], idempotencyKey: key() })));
    const settled = await Promise.allSettled(casts);
    expect(state.transactions).toBe(1);
    expect(commits).toEqual([[20, 15]]);
    expect(heads.sort()).toEqual([[1, 5, 5], [2, 5, 5], [3, 5, 5]]);
    for (const s of settled.slice(0, 5)) expect(s).toMatchObject({ status: "rejected", reason: { kind: "failed-precondition", reason: "ELECTION_NOT_OPEN" } });
    expect(voted(4).size).toBe(0);
    for (const id of [1, 2, 3]) {
      const entries = state.entries.filter((e) => e.electionId === id);
      const chain = checkChain(2, { seq: 0, hash: open(id).genesisHash }, entries.sort((a, b) => a.seq - b.seq).map((e) => ({ ...e, choices: e.choices.split(",").map(Number) })), { requireBallots: true });
      expect(chain).toMatchObject({ ok: true, headSeq: 5, headHash: state.elections.get(id)!.headHash });
      expect(voted(id).size).toBe(5);
    }
  });

  it("takes at most batchMax ballots into a commit, whatever their elections", async () => {
    const { repo, state } = memoryRepo(defaultElection(), { ...defaultElection(), id: 2 });
    const commits: number[] = [];
    const box = ballotBox(repo, { batchMax: 7, lingerMs: 0, onAppended() {}, onCommitted: (n) => commits.push(n) });
    await Promise.all(Array.from({ length: 20 }, (_, i) => box.cast({ electionId: 1 + (i % 2), voterId: i + 1, choices: [3], idempotencyKey: key() })));
    expect(commits).toEqual([7, 7, 6]);
    expect(state.transactions).toBe(3);
    expect(state.entries).toHaveLength(20);
  });
});
