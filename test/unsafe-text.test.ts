// Text that would rewrite a terminal or reorder what a reader sees (control characters, bidi
// overrides and isolates) is refused wherever a name or a title enters the system.
import { expect, it } from "vitest";
import { authV1, Status, voteV1 } from "@voting/client";
import { describeOnStores, rowCounts, uniqueName, type System } from "./harness.js";

const UNSAFE = ["\u0000", "\u0007", "\t", "\n", "\r", "\u001b[2J", "\u007f", "\u0085", "\u009b", "\u202e", "\u202a", "\u2066", "\u2069", "\u200f", "\u061c", "\u2028"];

async function refused(sys: System, call: () => Promise<unknown>, message: RegExp): Promise<void> {
  const before = await rowCounts(sys);
  const err = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, "the call should have been refused").toBeDefined();
  expect(err).toMatchObject({ code: Status.INVALID_ARGUMENT });
  expect((err as { details: string }).details).toMatch(message);
  // The refusal names the character without echoing it.
  expect((err as { details: string }).details).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
  expect(await rowCounts(sys)).toEqual(before);
}

describeOnStores("unsafe characters in text", (system) => {
  it("when a username holds a control or bidi character, then INVALID_ARGUMENT and no user", async () => {
    const anon = system().client();
    for (const bad of UNSAFE) {
      await refused(system(), () => anon.auth.register({ username: `ali${bad}ce`, password: "long enough pw", role: authV1.Role.ROLE_VOTER }), /username must not contain control or bidirectional formatting characters \(U\+[0-9A-F]{4}/);
    }
  });

  it("when an election title, description or candidate name holds one, then INVALID_ARGUMENT and no election", async () => {
    const admin = system().client(await system().adminToken());
    const base = { title: uniqueName("Board"), description: "plain", method: voteV1.BallotMethod.BALLOT_METHOD_PLURALITY, candidates: ["Ada", "Grace"] };
    for (const bad of UNSAFE) {
      await refused(system(), () => admin.elections.createElection({ ...base, title: `Board ${bad}x` }), /title must not contain control or bidirectional/);
      await refused(system(), () => admin.elections.createElection({ ...base, description: `about ${bad}x` }), /description must not contain control or bidirectional/);
      await refused(system(), () => admin.elections.createElection({ ...base, candidates: ["Ada", `Gr${bad}ace`] }), /candidate name must not contain control or bidirectional/);
      await refused(system(), () => admin.elections.createElection({ ...base, voterRoll: ["ann", `b${bad}ob`] }), /voter roll username must not contain control or bidirectional/);
    }
    // A right-to-left name is fine; only the invisible formatting characters are refused.
    await expect(admin.elections.createElection({ ...base, title: uniqueName("ועדה"), candidates: ["Ada", "גרייס", "Zoë"] })).resolves.toBeDefined();
  });

  it("when a candidate added later or a roll entry holds one, then INVALID_ARGUMENT and nothing is added", async () => {
    const admin = system().client(await system().adminToken());
    const { election } = await admin.elections.createElection({ title: uniqueName("Board"), method: voteV1.BallotMethod.BALLOT_METHOD_PLURALITY, candidates: ["Ada", "Grace"] });
    for (const bad of UNSAFE) {
      await refused(system(), () => admin.elections.addCandidate({ electionId: election!.id, name: `Ed${bad}sger` }), /name must not contain control or bidirectional/);
      await refused(system(), () => admin.elections.addToVoterRoll({ electionId: election!.id, usernames: ["ann", `b${bad}ob`] }), /voter roll username must not contain control or bidirectional/);
    }
    const after = (await admin.elections.getElection({ electionId: election!.id })).election!;
    expect(after.candidates.map((c) => c.name)).toEqual(["Ada", "Grace"]);
    expect(after.voterRollSize).toBe(0);
  });
});
