// Following the ballot log in pages: every page boundary and resume point gives each entry
// once, in order; the tally-server's materialised count, committed in batches, equals a
// recount of the log it followed, also across a restart of the tally-server.
import { afterAll, beforeAll, expect, it } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { type ClientReadableStream } from "@grpc/grpc-js";
import { voteV1, type VotingClient } from "@voting/client";
import { tallyRepository } from "../tally-server/src/db/tally-repository.js";
import { cliEnv, describeOnStores, eventually, runCli, uniqueName, type System } from "./harness.js";

const PAGE = 4;

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "voting-follow-"));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

/** An open IRV election over four candidates; `vote(n)` casts n ballots with varied rankings. */
async function rankedElection(sys: System) {
  const admin = sys.client(await sys.adminToken());
  const { election } = await admin.elections.createElection({ title: uniqueName("Follow"), method: voteV1.BallotMethod.BALLOT_METHOD_IRV, candidates: ["A", "B", "C", "D"], resultsWhileOpen: true });
  const id = election!.id;
  await admin.elections.openElection({ electionId: id });
  let cast = 0;
  const vote = async (n: number) => {
    const voters = await Promise.all(Array.from({ length: n }, () => sys.user("voter")));
    await Promise.all(
      voters.map((v) => {
        const i = cast++;
        // Rankings of one to four candidates, so that IRV needs several rounds.
        const order = [1, 2, 3, 4].sort((a, b) => ((a * 7 + i * 3) % 5) - ((b * 7 + i * 3) % 5));
        return sys.client(v.token).votes.castVote({ electionId: id, ballot: { choices: order.slice(0, 1 + (i % 4)) } });
      }),
    );
  };
  return { id, vote };
}

type Stream = ClientReadableStream<voteV1.StreamBallotsResponse>;

/** Seqs of a whole read (follow off) after afterSeq, and the size of each message. */
async function readAll(client: VotingClient, electionId: number, afterSeq: number) {
  const seqs: number[] = [];
  const sizes: number[] = [];
  for await (const m of (await client.votes.streamBallots({ electionId, afterSeq, follow: false })) as Stream) {
    sizes.push(m.entries.length);
    seqs.push(...m.entries.map((e) => e.seq));
  }
  return { seqs, sizes };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describeOnStores(
  "following the ballot log in pages",
  (system) => {
    it("when the log is read from any seq, at a page boundary or inside a page, then each later entry comes once, in order, in pages of at most the page size", async () => {
      const sys = system();
      const { id, vote } = await rankedElection(sys);
      const n = 3 * PAGE + 1;
      await vote(n);
      const anon = sys.client();
      for (const after of [0, 1, PAGE - 1, PAGE, PAGE + 1, 2 * PAGE, n - 1, n, n + 5]) {
        const { seqs, sizes } = await readAll(anon, id, after);
        expect(seqs, `after_seq ${after}`).toEqual(range(after + 1, n));
        expect(Math.max(0, ...sizes)).toBeLessThanOrEqual(PAGE);
      }
    });

    it("when a follower resumes inside a page while ballots keep coming, then it gets every later entry once, in order", async () => {
      const sys = system();
      const { id, vote } = await rankedElection(sys);
      await vote(2 * PAGE + 2);
      const resumeAt = PAGE + 2;
      const stream = (await sys.client().votes.streamBallots({ electionId: id, afterSeq: resumeAt, follow: true })) as Stream;
      const seqs: number[] = [];
      stream.on("data", (m: voteV1.StreamBallotsResponse) => seqs.push(...m.entries.map((e) => e.seq)));
      stream.on("error", () => undefined);
      await vote(PAGE + 3);
      const total = 3 * PAGE + 5;
      await eventually(async () => (seqs.length >= total - resumeAt ? true : undefined), 15_000, "the follower catches up");
      stream.cancel();
      expect(seqs).toEqual(range(resumeAt + 1, total));
    });

    it("when the tally-server follows a log of many pages and restarts midway, then its count equals the recount of the log, and its store holds each ballot once", async () => {
      const sys = system();
      const { id, vote } = await rankedElection(sys);
      await vote(5 * PAGE + 3);
      const tally = sys.client().tally;
      await eventually(async () => ((await tally.getResults({ electionId: id })).result!.countedThroughSeq === 5 * PAGE + 3 ? true : undefined), 15_000, "counted");
      await sys.restartTally();
      await vote(4 * PAGE + 1);
      const total = 9 * PAGE + 4;
      const result = await eventually(async () => {
        const r = (await tally.getResults({ electionId: id })).result!;
        return r.countedThroughSeq === total ? r : undefined;
      }, 20_000, "counted after the restart");
      expect(result.totalBallots).toBe(total);
      expect(result.rounds.length).toBeGreaterThan(1);
      // The materialised multiset: every ballot counted once, progress at the head.
      const stored = await sql<{ n: string | number }>`select sum(n_ballots) as n from tally_ballots where election_id = ${id}`.execute(sys.db.kysely);
      expect(Number(stored.rows[0].n)).toBe(total);
      const progress = await sql<{ last_seq: string | number; last_hash: string }>`select last_seq, last_hash from tally_progress where election_id = ${id}`.execute(sys.db.kysely);
      expect(Number(progress.rows[0].last_seq)).toBe(total);
      expect(progress.rows[0].last_hash).toBe(result.logHeadHash);
      // `voting audit` downloads the log, checks its chain and commitments, recounts it and compares every round.
      const audit = await runCli(["audit", "--election", String(id), "--json"], cliEnv(sys, join(home, sys.store)));
      expect(audit.stderr).toBe("");
      expect(audit.code).toBe(0);
      expect(JSON.parse(audit.stdout)).toMatchObject({ electionId: id, ballots: total, countedThroughSeq: total, ok: true });
    });

    it("when one tally transaction holds more distinct rankings than one statement may bind, then every one is stored and a second adds to them", async () => {
      const sys = system();
      const repo = tallyRepository(sys.db);
      // An election id no test creates: the repository alone, as a backlog's commit uses it.
      const id = 900_000_000 + Math.floor(Math.random() * 1_000_000);
      const rankings = Array.from({ length: 9_000 }, (_, i) => `${1 + (i % 7)},${8 + Math.floor(i / 7)}`);
      const delta = new Map(rankings.map((k) => [k, 2]));
      expect(await repo.apply([{ electionId: id, fromSeq: 0, to: { seq: 18_000, hash: "a".repeat(64) }, delta }])).toEqual([true]);
      expect(await repo.apply([{ electionId: id, fromSeq: 18_000, to: { seq: 18_001, hash: "b".repeat(64) }, delta: new Map([[rankings[8_999], 1]]) }])).toEqual([true]);
      const loaded = (await repo.load(id))!;
      expect(loaded.lastSeq).toBe(18_001);
      expect(loaded.ballots.size).toBe(9_000);
      expect(loaded.ballots.get(rankings[0])).toBe(2);
      expect(loaded.ballots.get(rankings[8_999])).toBe(3);
      await sql`delete from tally_ballots where election_id = ${id}`.execute(sys.db.kysely);
      await sql`delete from tally_progress where election_id = ${id}`.execute(sys.db.kysely);
    });

    it("when a tally transaction fails in a later statement, then none of its counts and not its progress are stored", async () => {
      const sys = system();
      const repo = tallyRepository(sys.db);
      const id = 900_000_000 + Math.floor(Math.random() * 1_000_000);
      const first = new Map(Array.from({ length: 1_337 }, (_, i) => [`${i + 1},${i + 2}`, 1 + (i % 3)]));
      expect(await repo.apply([{ electionId: id, fromSeq: 0, to: { seq: 2_674, hash: "c".repeat(64) }, delta: first }])).toEqual([true]);
      // 700 good rows, then one the store refuses: the first statement (512 rows) has run when the second fails.
      const bad = new Map(Array.from({ length: 700 }, (_, i) => [`${i + 1},${i + 2}`, 5]));
      bad.set("9,9,9", Number.NaN);
      await expect(repo.apply([{ electionId: id, fromSeq: 2_674, to: { seq: 6_175, hash: "d".repeat(64) }, delta: bad }])).rejects.toThrow();
      const loaded = (await repo.load(id))!;
      expect(loaded.lastSeq).toBe(2_674);
      expect(loaded.lastHash).toBe("c".repeat(64));
      expect(loaded.ballots).toEqual(first);
      await sql`delete from tally_ballots where election_id = ${id}`.execute(sys.db.kysely);
      await sql`delete from tally_progress where election_id = ${id}`.execute(sys.db.kysely);
    });

    it("when one tally transaction holds several elections and another tally-server has moved one of them, then the others are applied and that one is left as it was", async () => {
      const sys = system();
      const repo = tallyRepository(sys.db);
      const base = 900_000_000 + Math.floor(Math.random() * 1_000_000);
      const [a, b, c] = [base + 2, base, base + 1];
      expect(await repo.apply([{ electionId: b, fromSeq: 0, to: { seq: 5, hash: "e".repeat(64) }, delta: new Map([["1", 5]]) }])).toEqual([true]);
      // Given out of id order: the answers come in the order asked.
      const applied = await repo.apply([
        { electionId: a, fromSeq: 0, to: { seq: 2, hash: "a".repeat(64) }, delta: new Map([["1", 1], ["2", 1]]) },
        { electionId: b, fromSeq: 3, to: { seq: 7, hash: "b".repeat(64) }, delta: new Map([["1", 4]]) },
        { electionId: c, fromSeq: 0, to: { seq: 3, hash: "c".repeat(64) }, delta: new Map([["1", 1], ["2", 2]]) },
      ]);
      expect(applied).toEqual([true, false, true]);
      expect(await repo.load(a)).toEqual({ lastSeq: 2, lastHash: "a".repeat(64), ballots: new Map([["1", 1], ["2", 1]]) });
      expect(await repo.load(b)).toEqual({ lastSeq: 5, lastHash: "e".repeat(64), ballots: new Map([["1", 5]]) });
      expect(await repo.load(c)).toEqual({ lastSeq: 3, lastHash: "c".repeat(64), ballots: new Map([["1", 1], ["2", 2]]) });
      for (const id of [a, b, c]) {
        await sql`delete from tally_ballots where election_id = ${id}`.execute(sys.db.kysely);
        await sql`delete from tally_progress where election_id = ${id}`.execute(sys.db.kysely);
      }
    });

    it("when a tally transaction of several elections fails in its last statement, then no election's counts or progress are stored", async () => {
      const sys = system();
      const repo = tallyRepository(sys.db);
      const base = 900_000_000 + Math.floor(Math.random() * 1_000_000);
      const [a, b] = [base, base + 1];
      const first = new Map([["1,2", 3]]);
      expect(await repo.apply([{ electionId: a, fromSeq: 0, to: { seq: 3, hash: "a".repeat(64) }, delta: first }, { electionId: b, fromSeq: 0, to: { seq: 3, hash: "b".repeat(64) }, delta: first }])).toEqual([true, true]);
      // 600 good rows of a, then b's rows, the last of which the store refuses: a's have run when it fails.
      const many = new Map(Array.from({ length: 600 }, (_, i) => [`${i + 1},${i + 2}`, 1]));
      const bad = new Map([["1,2", 1], ["9,9,9", Number.NaN]]);
      await expect(
        repo.apply([
          { electionId: a, fromSeq: 3, to: { seq: 603, hash: "c".repeat(64) }, delta: many },
          { electionId: b, fromSeq: 3, to: { seq: 5, hash: "d".repeat(64) }, delta: bad },
        ]),
      ).rejects.toThrow();
      expect(await repo.load(a)).toEqual({ lastSeq: 3, lastHash: "a".repeat(64), ballots: first });
      expect(await repo.load(b)).toEqual({ lastSeq: 3, lastHash: "b".repeat(64), ballots: first });
      for (const id of [a, b]) {
        await sql`delete from tally_ballots where election_id = ${id}`.execute(sys.db.kysely);
        await sql`delete from tally_progress where election_id = ${id}`.execute(sys.db.kysely);
      }
    });
  },
  { VOTE_STREAM_PAGE_ENTRIES: String(PAGE) },
);
