import { expect, it } from "vitest";
import { checkChain } from "@voting/election-core";
import { Status, newIdempotencyKey, voteV1 } from "@voting/client";
import { describeOnStores, eventually, rowCounts, uniqueName } from "./harness.js";

describeOnStores("concurrent casting", (system) => {
  it("when one voter sends 50 CastVote calls at once, then exactly one ballot is recorded", async () => {
    const sys = system();
    const [a, b] = [await sys.user("candidate"), await sys.user("candidate")];
    const voter = await sys.user("voter");
    const before = await rowCounts(sys);
    const client = sys.client(voter.token);
    const retryKey = newIdempotencyKey();
    // Half are retries of one ballot (same key); the rest are fresh attempts, some for another candidate.
    const calls = Array.from({ length: 50 }, (_, i) =>
      client.votes.castVote(i % 2 === 0 ? { ballot: { choices: [a.id] }, idempotencyKey: retryKey } : { ballot: { choices: [i % 3 === 0 ? b.id : a.id] } }),
    );
    const settled = await Promise.allSettled(calls);
    const receipts = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value.receipt] : []));
    const errors = settled.flatMap((s) => (s.status === "rejected" ? [s.reason] : []));
    expect(receipts.length).toBeGreaterThanOrEqual(1);
    for (const r of receipts) expect(r).toEqual(receipts[0]);
    for (const e of errors) expect(e).toMatchObject({ code: Status.ALREADY_EXISTS });
    const after = await rowCounts(sys);
    expect(after.ballots - before.ballots).toBe(1);
    expect(after.participations - before.participations).toBe(1);
  });

  it("when 200 voters vote at once, then the log is gap-free, its chain verifies and the tally matches", async () => {
    const sys = system();
    const cand = await sys.user("candidate");
    const voters = await Promise.all(Array.from({ length: 200 }, () => sys.user("voter")));
    const anon = sys.client();
    const before = (await anon.elections.getElection({})).election!;
    const receipts = await Promise.all(voters.map((v) => sys.client(v.token).votes.castVote({ ballot: { choices: [cand.id] } })));
    const seqs = receipts.map((r) => r.receipt!.seq).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => before.ballotCount + i + 1));

    const stream = await anon.votes.streamBallots({ afterSeq: 0 });
    const entries = [];
    for await (const msg of stream) entries.push(...msg.entries);
    const chain = checkChain(
      2,
      { seq: 0, hash: before.logGenesisHash },
      entries.map((e) => ({ electionId: e.electionId, seq: e.seq, trackingCode: e.trackingCode, commitment: e.commitment, choices: e.ballot!.choices, salt: e.salt, hash: e.hash })),
      { requireBallots: true },
    );
    expect(chain).toMatchObject({ ok: true, headSeq: before.ballotCount + 200 });
    const after = (await anon.elections.getElection({})).election!;
    expect(after.logHeadHash).toBe((chain as { headHash: string }).headHash);
    const result = await eventually(async () => {
      const r = (await anon.tally.getResults({})).result!;
      return r.countedThroughSeq === after.ballotCount ? r : undefined;
    });
    expect(result.candidates.find((c) => c.candidateId === cand.id)!.votes).toBe("200");
    expect(result.logHeadHash).toBe(after.logHeadHash);
  });

  it("when voters vote in four elections at once, one of them closed, then each open election's log is gap-free, its chain verifies and its tally matches, and the closed one takes nothing", async () => {
    const sys = system();
    const admin = sys.client(await sys.adminToken());
    const anon = sys.client();
    const created = async () => {
      const { election } = await admin.elections.createElection({ title: uniqueName("Contest"), method: voteV1.BallotMethod.BALLOT_METHOD_PLURALITY, candidates: ["A", "B", "C"], resultsWhileOpen: true });
      await admin.elections.openElection({ electionId: election!.id });
      return election!.id;
    };
    const open = [await created(), await created(), await created()];
    const closed = await created();
    await admin.elections.closeElection({ electionId: closed });
    const voters = await Promise.all(Array.from({ length: 30 }, () => sys.user("voter")));
    // Every voter's four ballots at once, so commits can take several elections' ballots.
    const calls = voters.flatMap((v, i) => [...open, closed].map((electionId) => sys.client(v.token).votes.castVote({ electionId, ballot: { choices: [1 + ((i + electionId) % 3)] } })));
    const settled = await Promise.allSettled(calls);
    settled.forEach((s, i) => {
      if (i % 4 === 3) expect(s).toMatchObject({ status: "rejected", reason: { code: Status.FAILED_PRECONDITION } });
      else expect(s.status).toBe("fulfilled");
    });

    for (const id of open) {
      const election = (await anon.elections.getElection({ electionId: id })).election!;
      const entries = [];
      for await (const msg of await anon.votes.streamBallots({ electionId: id, afterSeq: 0 })) entries.push(...msg.entries);
      expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      const chain = checkChain(
        2,
        { seq: 0, hash: election.logGenesisHash },
        entries.map((e) => ({ electionId: e.electionId, seq: e.seq, trackingCode: e.trackingCode, commitment: e.commitment, choices: e.ballot!.choices, salt: e.salt, hash: e.hash })),
        { requireBallots: true },
      );
      expect(chain).toMatchObject({ ok: true, headSeq: 30, headHash: election.logHeadHash });
      const result = await eventually(async () => {
        const r = (await anon.tally.getResults({ electionId: id })).result!;
        return r.countedThroughSeq === 30 ? r : undefined;
      });
      const expected = [1, 2, 3].map((c) => String(voters.filter((_, i) => 1 + ((i + id) % 3) === c).length));
      expect([1, 2, 3].map((c) => result.candidates.find((x) => x.candidateId === c)!.votes)).toEqual(expected);
    }
    expect((await anon.elections.getElection({ electionId: closed })).election!.ballotCount).toBe(0);
  });
});
