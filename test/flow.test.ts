import { expect, it } from "vitest";
import { Status } from "@voting/client";
import { describeOnStores, eventually } from "./harness.js";

describeOnStores("the voting flow", (system) => {

  it("when voters vote for candidates, then results count every ballot live", async () => {
    const alice = await system().user("candidate");
    const bob = await system().user("candidate");
    const voters = await Promise.all([1, 2, 3].map(() => system().user("voter")));
    const anon = system().client();

    const { election } = await anon.elections.getElection({});
    expect(election!.title).toBe("General election");
    expect(election!.candidates.map((c) => c.id)).toEqual(expect.arrayContaining([alice.id, bob.id]));

    const watch = await anon.tally.watchResults({});
    const seen: number[] = [];
    const watching = (async () => {
      for await (const msg of watch) {
        seen.push(msg.result!.totalBallots);
        if (msg.result!.totalBallots === 3) break;
      }
    })();

    const receipts = [];
    for (const [i, v] of voters.entries()) {
      const r = await system().client(v.token).votes.castVote({ ballot: { choices: [i < 2 ? alice.id : bob.id] } });
      receipts.push(r.receipt!);
    }
    expect(receipts.map((r) => r.seq).sort()).toEqual([1, 2, 3]);
    expect(new Set(receipts.map((r) => r.trackingCode)).size).toBe(3);

    await watching;
    expect(seen[0]).toBe(0);
    expect(seen.at(-1)).toBe(3);

    const { result } = await anon.tally.getResults({});
    const row = (id: number) => result!.candidates.find((c) => c.candidateId === id)!;
    expect(row(alice.id).votes).toBe("2");
    expect(row(bob.id).votes).toBe("1");
    expect(row(alice.id).percentage).toBeCloseTo(66.667, 2);
    expect(row(alice.id).elected).toBe(true);
      expect(result!.winners).toEqual([alice.id]);
    expect(result!.countedThroughSeq).toBe(3);

    const { entry } = await anon.votes.getReceipt({ trackingCode: receipts[0].trackingCode });
    expect(entry!.hash).toBe(receipts[0].ballotHash);
  });

  it("when the tally-server restarts, then it resumes without losing or doubling ballots", async () => {
    const cand = await system().user("candidate");
    const before = (await system().client().tally.getResults({})).result!.totalBallots;
    const voters = await Promise.all([1, 2, 3, 4].map(() => system().user("voter")));
    await system().client(voters[0].token).votes.castVote({ ballot: { choices: [cand.id] } });
    await system().restartTally();
    for (const v of voters.slice(1)) await system().client(v.token).votes.castVote({ ballot: { choices: [cand.id] } });
    const result = await eventually(async () => {
      const r = (await system().client().tally.getResults({})).result!;
      return r.totalBallots === before + 4 ? r : undefined;
    });
    expect(result.candidates.find((c) => c.candidateId === cand.id)!.votes).toBe("4");
    const { election } = await system().client().elections.getElection({});
    expect(result.countedThroughSeq).toBe(election!.ballotCount);
    expect(result.logHeadHash).toBe(election!.logHeadHash);
  });

  it("when the vote-server restarts, then the tally reconnects and counts what follows", async () => {
    const cand = await system().user("candidate");
    const voters = await Promise.all([1, 2, 3].map(() => system().user("voter")));
    await system().client(voters[0].token).votes.castVote({ ballot: { choices: [cand.id] } });
    await system().restartVote();
    for (const v of voters.slice(1)) await system().client(v.token).votes.castVote({ ballot: { choices: [cand.id] } });
    const { election } = await system().client().elections.getElection({});
    const result = await eventually(async () => {
      const r = (await system().client().tally.getResults({})).result!;
      return r.countedThroughSeq === election!.ballotCount ? r : undefined;
    });
    expect(result.candidates.find((c) => c.candidateId === cand.id)!.votes).toBe("3");
    expect(result.logHeadHash).toBe(election!.logHeadHash);
  });

  it("when a voter votes twice, then the second different ballot is ALREADY_EXISTS and a retry gets the same receipt", async () => {
    const [a, b] = [await system().user("candidate"), await system().user("candidate")];
    const v = await system().user("voter");
    const c = system().client(v.token);
    const key = Buffer.alloc(32, 7);
    const first = await c.votes.castVote({ ballot: { choices: [a.id] }, idempotencyKey: key });
    const retry = await c.votes.castVote({ ballot: { choices: [a.id] }, idempotencyKey: key });
    expect(retry.receipt).toEqual(first.receipt);
    await expect(c.votes.castVote({ ballot: { choices: [b.id] }, idempotencyKey: key })).rejects.toMatchObject({ code: Status.ALREADY_EXISTS });
    await expect(c.votes.castVote({ ballot: { choices: [a.id] } })).rejects.toMatchObject({ code: Status.ALREADY_EXISTS });
  });
});
