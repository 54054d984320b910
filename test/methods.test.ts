// Each ballot method end to end: ballots cast through vote-server, results explained by
// tally-server, on both stores.
import { expect, it } from "vitest";
import { Status, voteV1, type tallyV1 } from "@voting/client";
import { describeOnStores, eventually, uniqueName, type System } from "./harness.js";

const M = voteV1.BallotMethod;

/** Creates and opens an election, casts the ballots (one voter each), returns the counted result. */
async function run(sys: System, method: voteV1.BallotMethod, candidates: string[], ballots: number[][], seats = 1) {
  const admin = sys.client(await sys.adminToken());
  const { election } = await admin.elections.createElection({ title: uniqueName("E"), method, seats, candidates, resultsWhileOpen: true });
  await admin.elections.openElection({ electionId: election!.id });
  const voters = await Promise.all(ballots.map(() => sys.user("voter")));
  await Promise.all(ballots.map((choices, i) => sys.client(voters[i].token).votes.castVote({ electionId: election!.id, ballot: { choices } })));
  const result = await counted(sys, election!.id, ballots.length);
  return { admin, election: election!, result };
}

async function counted(sys: System, electionId: number, n: number, extra: (r: tallyV1.ElectionResult) => boolean = () => true) {
  return eventually(async () => {
    const r = (await sys.client().tally.getResults({ electionId })).result!;
    return r.countedThroughSeq === n && extra(r) ? r : undefined;
  });
}

const repeat = (n: number, ballot: number[]) => Array.from({ length: n }, () => ballot);
const votesOf = (r: tallyV1.ElectionResult) => Object.fromEntries(r.candidates.map((c) => [c.name, c.votes]));

describeOnStores("ballot methods end to end", (system) => {
  it("plurality with two seats elects the top two", async () => {
    const { result } = await run(system(), M.BALLOT_METHOD_PLURALITY, ["A", "B", "C"], [...repeat(3, [1]), ...repeat(2, [3]), [2]], 2);
    expect(result.winners).toEqual([1, 3]);
    expect(votesOf(result)).toEqual({ A: "3", C: "2", B: "1" });
    expect(result.candidates.filter((c) => c.elected).map((c) => c.name)).toEqual(["A", "C"]);
  });

  it("approval counts every approved candidate", async () => {
    const { result } = await run(system(), M.BALLOT_METHOD_APPROVAL, ["A", "B", "C"], [[1, 2], [2, 3], [2], [3, 1]]);
    expect(votesOf(result)).toEqual({ B: "3", A: "2", C: "2" });
    expect(result.winners).toEqual([2]);
  });

  it("irv explains every round with transfers and exhausted ballots", async () => {
    // First preferences A 4, B 3, C 2. C is eliminated: one ballot moves to B, one exhausts.
    // Round 2 ties A and B at 4; A led round 1, so B is eliminated, and A wins.
    const ballots = [...repeat(4, [1]), ...repeat(3, [2, 1]), [3, 2], [3]];
    const { result } = await run(system(), M.BALLOT_METHOD_IRV, ["A", "B", "C"], ballots);
    expect(result.rounds.length).toBeGreaterThanOrEqual(2);
    expect(result.rounds[0].counts).toEqual(expect.arrayContaining([{ candidateId: 1, votes: "4" }, { candidateId: 2, votes: "3" }, { candidateId: 3, votes: "2" }]));
    expect(result.rounds[0].eliminated).toEqual([3]);
    expect(result.rounds[0].transfers[0]).toMatchObject({ fromCandidateId: 3, exhausted: "1" });
    expect(result.rounds[1].exhausted).toBe("1");
    expect(result.winners).toEqual([1]);
  });

  it("stv fills several seats with quota, surplus and transfers", async () => {
    const ballots = [...repeat(6, [1, 2]), ...repeat(2, [2]), ...repeat(3, [3]), ...repeat(1, [4, 3])];
    const { result } = await run(system(), M.BALLOT_METHOD_STV, ["A", "B", "C", "D"], ballots, 2);
    expect(result.rounds[0].quota).not.toBe("");
    expect(result.winners).toHaveLength(2);
    expect(result.winners[0]).toBe(1);
    expect(result.rounds.some((r) => r.transfers.some((t) => t.kind === 1))).toBe(true); // a surplus moved
  });

  it("schulze publishes the pairwise matrix, strongest paths and full ranking", async () => {
    const ballots = [...repeat(3, [1, 2, 3]), ...repeat(2, [2, 3, 1]), ...repeat(2, [3, 2, 1])];
    const { result } = await run(system(), M.BALLOT_METHOD_SCHULZE, ["A", "B", "C"], ballots);
    const ids = result.pairwise!.candidateIds;
    const d = (x: number, y: number) => result.pairwise!.matrix[ids.indexOf(x)].values[ids.indexOf(y)];
    expect(d(2, 1)).toBe(4); // B over A
    expect(d(2, 3)).toBe(5); // B over C
    expect(result.winners).toEqual([2]);
    expect(result.ranking[0].candidateIds).toEqual([2]);
    expect(result.pairwise!.strongest).toHaveLength(3);
  });

  it("when results are embargoed, then only the ballot count shows until the close, then the final result", async () => {
    const sys = system();
    const admin = sys.client(await sys.adminToken());
    const { election } = await admin.elections.createElection({ title: uniqueName("Secret"), method: M.BALLOT_METHOD_PLURALITY, candidates: ["A", "B"] });
    expect(election!.resultsWhileOpen).toBe(false);
    await admin.elections.openElection({ electionId: election!.id });
    const v = await sys.user("voter");
    const { receipt } = await sys.client(v.token).votes.castVote({ electionId: election!.id, ballot: { choices: [2] } });
    const hidden = await counted(sys, election!.id, 1);
    expect(hidden).toMatchObject({ embargoed: true, totalBallots: 1, candidates: [], winners: [], final: false });
    // The public log hides the content too while the election is open.
    const entry = (await sys.client().votes.getReceipt({ trackingCode: receipt!.trackingCode })).entry!;
    expect(entry.ballot).toBeUndefined();

    const watch = await sys.client().tally.watchResults({ electionId: election!.id });
    const seen: tallyV1.ElectionResult[] = [];
    const watching = (async () => {
      for await (const m of watch) {
        seen.push(m.result!);
        if (m.result!.final) break;
      }
    })();
    await admin.elections.closeElection({ electionId: election!.id });
    await watching;
    expect(seen[0].embargoed).toBe(true);
    expect(seen.at(-1)).toMatchObject({ embargoed: false, final: true, winners: [2] });
    expect((await sys.client().votes.getReceipt({ trackingCode: receipt!.trackingCode })).entry!.ballot).toEqual({ choices: [2] });
  });

  it("when ballots arrive while someone watches, then an update follows each burst", async () => {
    const sys = system();
    const admin = sys.client(await sys.adminToken());
    const { election } = await admin.elections.createElection({ title: uniqueName("Live"), method: M.BALLOT_METHOD_IRV, candidates: ["A", "B", "C"], resultsWhileOpen: true });
    await admin.elections.openElection({ electionId: election!.id });
    const watch = await sys.client().tally.watchResults({ electionId: election!.id });
    const it = watch[Symbol.asyncIterator]();
    expect((await it.next()).value.result.totalBallots).toBe(0);
    const voters = await Promise.all([1, 2, 3, 4, 5].map(() => sys.user("voter")));
    const started = Date.now();
    await Promise.all(voters.map((v, i) => sys.client(v.token).votes.castVote({ electionId: election!.id, ballot: { choices: [1 + (i % 3), 1 + ((i + 1) % 3)] } })));
    let last = 0;
    while (last < 5) last = (await it.next()).value.result.totalBallots;
    expect(Date.now() - started).toBeLessThan(5_000);
    watch.cancel();
  });

  it("when many watch and one never reads, then voting goes on and every reading watcher sees every ballot", async () => {
    const sys = system();
    const admin = sys.client(await sys.adminToken());
    const { election } = await admin.elections.createElection({ title: uniqueName("Crowd"), method: M.BALLOT_METHOD_PLURALITY, candidates: ["A", "B"], resultsWhileOpen: true });
    await admin.elections.openElection({ electionId: election!.id });
    const stuck = await sys.client().tally.watchResults({ electionId: election!.id });
    stuck.pause(); // a watcher that never reads
    stuck.on("error", () => undefined); // its cancel below ends it with CANCELLED
    const watchers = await Promise.all(Array.from({ length: 20 }, () => sys.client().tally.watchResults({ electionId: election!.id })));
    const finished = watchers.map(async (w) => {
      for await (const m of w) if (m.result!.totalBallots === 60) return true;
      return false;
    });
    const voters = await Promise.all(Array.from({ length: 60 }, () => sys.user("voter")));
    await Promise.all(voters.map((v, i) => sys.client(v.token).votes.castVote({ electionId: election!.id, ballot: { choices: [1 + (i % 2)] } })));
    expect(await Promise.all(finished)).toEqual(Array(20).fill(true));
    stuck.cancel();
    for (const w of watchers) w.cancel();
  });

  it("when a closed election is asked for results, then they are final and equal a recount of the log", async () => {
    const sys = system();
    const { admin, election, result } = await run(sys, M.BALLOT_METHOD_IRV, ["A", "B", "C"], [[1, 2], [2, 1], [3, 1], [1], [2, 3]]);
    await admin.elections.closeElection({ electionId: election.id });
    const final = await counted(sys, election.id, 5, (r) => r.final);
    expect(final.winners).toEqual(result.winners);
    expect(final.logHeadHash).toBe((await sys.client().elections.getElection({ electionId: election.id })).election!.logHeadHash);
  });

  it("when a draft election is asked for results, then FAILED_PRECONDITION", async () => {
    const sys = system();
    const admin = sys.client(await sys.adminToken());
    const { election } = await admin.elections.createElection({ title: uniqueName("Draft"), method: M.BALLOT_METHOD_PLURALITY, candidates: ["A", "B"] });
    await expect(sys.client().tally.getResults({ electionId: election!.id })).rejects.toMatchObject({ code: Status.FAILED_PRECONDITION });
    await expect(sys.client().tally.getResults({ electionId: 987654 })).rejects.toMatchObject({ code: Status.NOT_FOUND });
  });
});
