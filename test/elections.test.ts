// Officials run elections: lifecycle, candidates, voter rolls, schedules, and the refusals.
import { expect, it } from "vitest";
import { Status, voteV1 } from "@voting/client";
import { describeOnStores, eventually, rowCounts, uniqueName, type System } from "./harness.js";
import { readAuthConfig, startAuthServer } from "@voting/auth-server";
import { createLogger } from "@voting/server-kit";

const M = voteV1.BallotMethod;
const S = voteV1.ElectionState;

async function admin(sys: System) {
  return sys.client(await sys.adminToken());
}

async function draft(sys: System, over: Partial<voteV1.CreateElectionRequest> = {}) {
  const a = await admin(sys);
  const { election } = await a.elections.createElection({ title: uniqueName("Board"), method: M.BALLOT_METHOD_PLURALITY, candidates: ["Ada", "Grace", "Edsger"], resultsWhileOpen: true, ...over });
  return { a, election: election! };
}

describeOnStores("elections run by officials", (system) => {
  it("when an admin creates, fills, opens and closes an election, then each state allows only its own changes", async () => {
    const sys = system();
    const { a, election } = await draft(sys, { candidates: ["Ada", "Grace"] });
    expect(election).toMatchObject({ state: S.ELECTION_STATE_DRAFT, method: M.BALLOT_METHOD_PLURALITY, seats: 1, ballotCount: 0, logGenesisHash: "" });
    expect(election.candidates).toEqual([{ id: 1, name: "Ada" }, { id: 2, name: "Grace" }]);

    const { candidate } = await a.elections.addCandidate({ electionId: election.id, name: "Edsger" });
    expect(candidate).toEqual({ id: 3, name: "Edsger" });
    await expect(a.elections.addCandidate({ electionId: election.id, name: "Ada" })).rejects.toMatchObject({ code: Status.ALREADY_EXISTS });

    const voter = await sys.user("voter");
    await expect(sys.client(voter.token).votes.castVote({ electionId: election.id, ballot: { choices: [1] } })).rejects.toMatchObject({
      code: Status.FAILED_PRECONDITION,
      details: expect.stringMatching(/is draft, not open/),
    });

    const opened = (await a.elections.openElection({ electionId: election.id })).election!;
    expect(opened.state).toBe(S.ELECTION_STATE_OPEN);
    expect(opened.logGenesisHash).toMatch(/^[0-9a-f]{64}$/);
    await expect(a.elections.addCandidate({ electionId: election.id, name: "Barbara" })).rejects.toMatchObject({ code: Status.FAILED_PRECONDITION });
    await expect(a.elections.openElection({ electionId: election.id })).rejects.toMatchObject({ code: Status.FAILED_PRECONDITION });

    const r = await sys.client(voter.token).votes.castVote({ electionId: election.id, ballot: { choices: [3] } });
    expect(r.receipt).toMatchObject({ electionId: election.id, seq: 1 });

    const closed = (await a.elections.closeElection({ electionId: election.id })).election!;
    expect(closed).toMatchObject({ state: S.ELECTION_STATE_CLOSED, ballotCount: 1 });
    const late = await sys.user("voter");
    await expect(sys.client(late.token).votes.castVote({ electionId: election.id, ballot: { choices: [1] } })).rejects.toMatchObject({ code: Status.FAILED_PRECONDITION });
    await expect(a.elections.closeElection({ electionId: election.id })).rejects.toMatchObject({ code: Status.FAILED_PRECONDITION });
    await expect(a.elections.openElection({ electionId: election.id })).rejects.toMatchObject({ code: Status.FAILED_PRECONDITION });
  });

  it("when someone who is not an admin tries to run an election, then PERMISSION_DENIED or UNAUTHENTICATED and nothing changes", async () => {
    const sys = system();
    const { election } = await draft(sys);
    const voter = await sys.user("voter");
    const cand = await sys.user("candidate");
    const before = await rowCounts(sys);
    for (const c of [sys.client(voter.token), sys.client(cand.token)]) {
      await expect(c.elections.createElection({ title: "x", method: M.BALLOT_METHOD_PLURALITY, candidates: ["a", "b"] })).rejects.toMatchObject({ code: Status.PERMISSION_DENIED });
      await expect(c.elections.addCandidate({ electionId: election.id, name: "Mallory" })).rejects.toMatchObject({ code: Status.PERMISSION_DENIED });
      await expect(c.elections.openElection({ electionId: election.id })).rejects.toMatchObject({ code: Status.PERMISSION_DENIED });
      await expect(c.elections.closeElection({ electionId: 1 })).rejects.toMatchObject({ code: Status.PERMISSION_DENIED });
      await expect(c.elections.addToVoterRoll({ electionId: election.id, usernames: ["x-y-z"] })).rejects.toMatchObject({ code: Status.PERMISSION_DENIED });
    }
    await expect(sys.client().elections.openElection({ electionId: election.id })).rejects.toMatchObject({ code: Status.UNAUTHENTICATED });
    expect(await rowCounts(sys)).toEqual(before);
    expect((await sys.client().elections.getElection({ electionId: election.id })).election!.state).toBe(S.ELECTION_STATE_DRAFT);
  });

  it("when the admin bootstrap names an existing non-admin user, then auth-server refuses to start", async () => {
    const sys = system();
    const voter = await sys.user("voter");
    const start = startAuthServer(readAuthConfig({ ...sys.env, AUTH_PORT: "0", VOTING_ADMIN_USERNAME: voter.username, VOTING_ADMIN_PASSWORD: "new admin pw" }), createLogger("t", "silent"));
    await expect(start).rejects.toThrow(`admin bootstrap: ${voter.username} exists and is not an admin`);
    // The voter's own password still works: nothing was changed.
    await expect(sys.client().auth.login({ username: voter.username, password: voter.password })).resolves.toMatchObject({ user: { role: 1 } });
  });

  it("when nobody may register as admin, then Register refuses the role", async () => {
    await expect(system().client().auth.register({ username: uniqueName("boss"), password: "long enough", role: 3 })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
  });

  it("when an election definition is bad, then INVALID_ARGUMENT and nothing is created", async () => {
    const sys = system();
    const a = await admin(sys);
    const before = await rowCounts(sys);
    const bad: Partial<voteV1.CreateElectionRequest>[] = [
      { title: "", method: M.BALLOT_METHOD_PLURALITY },
      { title: "x".repeat(201), method: M.BALLOT_METHOD_PLURALITY },
      { title: "No method" },
      { title: "Two seats IRV", method: M.BALLOT_METHOD_IRV, seats: 2 },
      { title: "Dup", method: M.BALLOT_METHOD_PLURALITY, candidates: ["A", "A"] },
      { title: "Past", method: M.BALLOT_METHOD_PLURALITY, closesAt: new Date(Date.now() - 60_000) },
      { title: "Backwards", method: M.BALLOT_METHOD_PLURALITY, opensAt: new Date(Date.now() + 120_000), closesAt: new Date(Date.now() + 60_000) },
      { title: "Bad roll", method: M.BALLOT_METHOD_PLURALITY, voterRoll: ["not a username!"] },
    ];
    for (const req of bad) await expect(a.elections.createElection(req), req.title).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
    expect(await rowCounts(sys)).toEqual(before);
  });

  it("when an election has too few candidates, then it cannot open", async () => {
    const { a, election } = await draft(system(), { candidates: ["Solo"] });
    await expect(a.elections.openElection({ electionId: election.id })).rejects.toMatchObject({ code: Status.FAILED_PRECONDITION, details: expect.stringMatching(/needs at least 2/) });
  });

  it("when an election has a voter roll, then only listed voters may vote", async () => {
    const sys = system();
    const listed = await sys.user("voter");
    const other = await sys.user("voter");
    const { a, election } = await draft(sys, { voterRoll: [listed.username] });
    expect(election).toMatchObject({ hasVoterRoll: true, voterRollSize: 1 });
    const late = await sys.user("voter");
    expect(await a.elections.addToVoterRoll({ electionId: election.id, usernames: [late.username, listed.username] })).toEqual({ added: 1, rollSize: 2 });
    await a.elections.openElection({ electionId: election.id });
    const before = await rowCounts(sys);
    await expect(sys.client(other.token).votes.castVote({ electionId: election.id, ballot: { choices: [1] } })).rejects.toMatchObject({
      code: Status.PERMISSION_DENIED,
      details: `${other.username} is not on the voter roll of election ${election.id}`,
    });
    expect(await rowCounts(sys)).toEqual(before);
    await expect(sys.client(listed.token).votes.castVote({ electionId: election.id, ballot: { choices: [1] } })).resolves.toBeDefined();
    await expect(sys.client(late.token).votes.castVote({ electionId: election.id, ballot: { choices: [2] } })).resolves.toBeDefined();
  });

  it("when a roll of 20,000 usernames is imported in batches, then every one is on it once", async () => {
    const sys = system();
    const { a, election } = await draft(sys);
    const names = Array.from({ length: 20_000 }, (_, i) => `roll-${i}`);
    let size = 0;
    for (let i = 0; i < names.length; i += 5_000) size = (await a.elections.addToVoterRoll({ electionId: election.id, usernames: names.slice(i, i + 5_000) })).rollSize;
    expect(size).toBe(20_000);
    const again = await a.elections.addToVoterRoll({ electionId: election.id, usernames: names.slice(0, 10) });
    expect(again).toEqual({ added: 0, rollSize: 20_000 });
    await expect(a.elections.addToVoterRoll({ electionId: election.id, usernames: Array(10_001).fill("x-y-z") })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
  });

  it("when opening and closing times are set, then the election opens and closes by itself", async () => {
    const sys = system();
    const { election } = await draft(sys, { opensAt: new Date(Date.now() + 1_000), closesAt: new Date(Date.now() + 3_500) });
    const c = sys.client();
    await eventually(async () => ((await c.elections.getElection({ electionId: election.id })).election!.state === S.ELECTION_STATE_OPEN ? true : undefined), 5_000);
    const voter = await sys.user("voter");
    await sys.client(voter.token).votes.castVote({ electionId: election.id, ballot: { choices: [2] } });
    await eventually(async () => ((await c.elections.getElection({ electionId: election.id })).election!.state === S.ELECTION_STATE_CLOSED ? true : undefined), 6_000);
    const late = await sys.user("voter");
    await expect(sys.client(late.token).votes.castVote({ electionId: election.id, ballot: { choices: [1] } })).rejects.toMatchObject({ code: Status.FAILED_PRECONDITION });
  });

  it("when the vote-server was down at the scheduled time, then it catches up on restart", async () => {
    const sys = system();
    const { election } = await draft(sys, { opensAt: new Date(Date.now() + 700) });
    await sys.restartVote(1_000);
    // The first answer after the restart (the channel may need a moment to reconnect) already says open.
    const state = await eventually(async () => (await sys.client().elections.getElection({ electionId: election.id })).election!.state);
    expect(state).toBe(S.ELECTION_STATE_OPEN);
  });

  it("when an election is read without turnout, then it is the same election with turnout 0, and with turnout the count is there", async () => {
    const sys = system();
    const { a, election } = await draft(sys);
    await a.elections.openElection({ electionId: election.id });
    for (let i = 0; i < 3; i++) {
      const v = await sys.user("voter");
      await sys.client(v.token).votes.castVote({ electionId: election.id, ballot: { choices: [1 + i] } });
    }
    const anonymous = sys.client();
    const full = (await anonymous.elections.getElection({ electionId: election.id })).election!;
    const lean = (await anonymous.elections.getElection({ electionId: election.id, withoutTurnout: true })).election!;
    expect(full).toMatchObject({ ballotCount: 3, turnout: 3 });
    expect(lean).toEqual({ ...full, turnout: 0 });
  });

  it("when elections are listed, then pages follow and the state filter applies", async () => {
    const sys = system();
    const { a } = await draft(sys);
    for (let i = 0; i < 3; i++) await draft(sys);
    const drafts = [];
    let pageToken = "";
    do {
      const page = await a.elections.listElections({ state: S.ELECTION_STATE_DRAFT, pageSize: 2, pageToken });
      expect(page.elections.length).toBeLessThanOrEqual(2);
      drafts.push(...page.elections);
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    expect(drafts.length).toBeGreaterThanOrEqual(4);
    expect(drafts.every((e) => e.state === S.ELECTION_STATE_DRAFT)).toBe(true);
    expect(new Set(drafts.map((e) => e.id)).size).toBe(drafts.length);
  });

  it("when a ballot does not fit the method, then INVALID_ARGUMENT says what the method expects", async () => {
    const sys = system();
    const voter = await sys.user("voter");
    const cases: [voteV1.BallotMethod, number[], RegExp][] = [
      [M.BALLOT_METHOD_PLURALITY, [1, 2], /plurality: a ballot names exactly one candidate/],
      [M.BALLOT_METHOD_APPROVAL, [], /approval: a ballot names a non-empty set/],
      [M.BALLOT_METHOD_IRV, [1, 2, 1], /irv: a ballot ranks one or more candidates, most preferred first, without repeats/],
      [M.BALLOT_METHOD_SCHULZE, [], /schulze: a ballot ranks/],
      [M.BALLOT_METHOD_IRV, [1, 9], /9 is not a candidate in election/],
    ];
    for (const [method, choices, message] of cases) {
      const { a, election } = await draft(sys, { method });
      await a.elections.openElection({ electionId: election.id });
      const before = await rowCounts(sys);
      await expect(sys.client(voter.token).votes.castVote({ electionId: election.id, ballot: { choices } })).rejects.toMatchObject({
        code: Status.INVALID_ARGUMENT,
        details: expect.stringMatching(message),
      });
      expect(await rowCounts(sys)).toEqual(before);
    }
  });
});
