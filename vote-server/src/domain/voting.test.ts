// Casting through the voting service: the checks before the ballot box give the same answers
// whether the election was read already (decided without an await) or is read for the call.
import { describe, expect, it } from "vitest";
import { DomainError, type Principal } from "@voting/server-kit";
import type { ElectionRepository } from "../db/election-repository.js";
import type { BallotRepository } from "../db/ballot-repository.js";
import type { BallotBox, CastRequest } from "./ballot-box.js";
import type { CandidateDirectory } from "./candidates.js";
import { defaultElection, type Election } from "./elections.js";
import { votingService } from "./voting.js";

const voter: Principal = { userId: 7, role: "voter", username: "val" };

function setup(over: Partial<Election> = {}, roll: string[] = [], ledgerReads: number[] = []) {
  const elections = new Map<number, Election>([[5, { ...defaultElection(), id: 5, method: "approval", candidateSource: "list", ...over }]]);
  const reads: number[] = [];
  const repo = {
    get: async (id: number) => (reads.push(id), elections.get(id)),
    candidates: async () => [11, 12, 13].map((id) => ({ id, name: `c${id}` })),
    isOnRoll: async (_id: number, username: string) => roll.includes(username),
  } as unknown as ElectionRepository;
  const cast: CastRequest[] = [];
  const box = { cast: async (req: CastRequest) => (cast.push(req), { electionId: req.electionId, seq: cast.length, ballotHash: "h", trackingCode: "t" }) } as BallotBox;
  const directory = { isCandidate: async (id: number) => id === 21, list: async () => [] } as CandidateDirectory;
  const ballots = { ledger: async (id: number) => (ledgerReads.push(id), { headSeq: 2, headHash: "ab", ballots: 2, maxSeq: 2, turnout: 2 }) } as unknown as BallotRepository;
  const voting = votingService({ elections: repo, ballots, directory, box });
  const vote = (choices: number[], who: Principal = voter, electionId = 5) => voting.cast(who, { electionId, choices, idempotencyKey: Buffer.alloc(16, 1) });
  return { voting, vote, cast, reads, elections };
}

const reason = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (err: unknown) => (err instanceof DomainError ? err.reason : String(err)),
  );

describe("voting.cast", () => {
  it("answers alike on the first call (the election is read) and later ones (from the cache); always a promise, never a throw", async () => {
    const { vote, cast, reads } = setup();
    for (let round = 0; round < 2; round++) {
      expect(await reason(vote([13, 11]))).toBe("ok");
      expect(await reason(vote([14]))).toBe("NOT_A_CANDIDATE");
      expect(await reason(vote([]))).toBe("BALLOT_INVALID");
      expect(await reason(vote([11, 11]))).toBe("BALLOT_INVALID");
      expect(await reason(vote([11], { ...voter, role: "candidate" }))).toBe("ROLE_NOT_ALLOWED");
      expect(await reason(vote([11], voter, 99))).toBe("ELECTION_NOT_FOUND");
    }
    // Approval ballots reach the box in canonical order, with the caller as voter.
    expect(cast.map((c) => [c.voterId, c.choices])).toEqual([
      [7, [11, 13]],
      [7, [11, 13]],
    ]);
    expect(reads.filter((id) => id === 5)).toHaveLength(1);
  });

  it("a closed election read again after forget() refuses, cached or not", async () => {
    const { voting, vote, elections } = setup();
    expect(await reason(vote([12]))).toBe("ok");
    elections.set(5, { ...elections.get(5)!, state: "closed" });
    voting.forget(5);
    expect(await reason(vote([12]))).toBe("ELECTION_NOT_OPEN");
    expect(await reason(vote([12]))).toBe("ELECTION_NOT_OPEN");
  });

  it("past its closing time, a cached open election refuses", async () => {
    const { vote, elections } = setup();
    expect(await reason(vote([12]))).toBe("ok");
    elections.get(5)!.closesAt = new Date(Date.now() - 1);
    expect(await reason(vote([12]))).toBe("ELECTION_NOT_OPEN");
  });

  it("a voter roll and registered-user candidates are checked on every call", async () => {
    const rolled = setup({ hasVoterRoll: true }, ["val"]);
    for (let round = 0; round < 2; round++) {
      expect(await reason(rolled.vote([11]))).toBe("ok");
      expect(await reason(rolled.vote([11], { userId: 8, role: "voter", username: "other" }))).toBe("NOT_ON_VOTER_ROLL");
    }
    const registered = setup({ candidateSource: "registered_users" });
    for (let round = 0; round < 2; round++) {
      expect(await reason(registered.vote([21]))).toBe("ok");
      expect(await reason(registered.vote([11]))).toBe("NOT_A_CANDIDATE");
    }
  });
});

describe("voting.getElection", () => {
  it("counts the turnout only when asked: callers that leave it out cost the store no whole-log count", async () => {
    const ledgerReads: number[] = [];
    const { voting } = setup({ state: "open", headSeq: 2, headHash: "ab" }, [], ledgerReads);
    expect((await voting.getElection(5)).turnout).toBe(2);
    expect(ledgerReads).toEqual([5]);
    const lean = await voting.getElection(5, undefined, { turnout: false });
    expect(lean).toMatchObject({ turnout: 0, election: { headSeq: 2, headHash: "ab" } });
    expect(ledgerReads).toEqual([5]);
  });
});
