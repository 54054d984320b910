// The follow-stream round of `npm run bench`: votes cast while thousands of anonymous
// StreamBallots follow streams (followers.mjs, a child process) are open on the same election,
// between a round before and a round after without them (the machine is shared, load drifts).
import { child, sleep } from "./lib.mjs";
import { newElection, voteRound } from "./rounds.mjs";

/** Opens `count` follow streams of an election from a child process, each from `afterSeq` (below the head, so its first message proves it open). */
async function openFollowers(voteAddr, count, electionId, afterSeq) {
  const c = child("followers.mjs", [voteAddr, String(count), String(electionId), String(afterSeq)]);
  const t0 = Date.now();
  const first = await c.line();
  if (first !== "ready") throw new Error(`follow streams did not open: ${first}`);
  process.stdout.write(`  ${count} follow streams open in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  return {
    async report() {
      c.send("report");
      return JSON.parse(await c.line());
    },
    stop: c.stop,
  };
}

/** Rounds of `tokens.length` ballots before, with and after `streams` follow streams; `spare` votes once to start the followed log. */
export async function streamsRounds(sys, tokens, spare, streams, opts) {
  const before = await voteRound(sys, tokens, [await newElection(sys, "streams: before")], opts);
  const e = await newElection(sys, "streams: with");
  await sys.client.votes.castVote({ electionId: e.id, ballot: { choices: [e.candidates[0]] } }, { token: spare });
  const followers = await openFollowers(sys.addrs.vote, streams, e.id, 0);
  const cpu0 = (await followers.report()).cpuSeconds;
  const withThem = await voteRound(sys, tokens, [e], opts);
  const finalHead = (await sys.client.elections.getElection({ electionId: e.id })).election.ballotCount;
  let seen;
  for (let i = 0; i < 100; i++) {
    seen = await followers.report();
    if (seen.sampleLastSeq.every((s) => s === finalHead) || Object.keys(seen.errors).length > 0) break;
    await sleep(100);
  }
  await followers.stop();
  const after = await voteRound(sys, tokens, [await newElection(sys, "streams: after")], opts);
  const vps = (r) => r.votes.perSecond;
  return {
    streams,
    before,
    with: withThem,
    after,
    ratio: vps(withThem) / ((vps(before) + vps(after)) / 2),
    followers: {
      open: seen.open,
      mb: +(seen.bytes / 1e6).toFixed(1),
      errors: seen.errors,
      sampled: seen.sampled,
      sampleGaps: seen.sampleGaps,
      sampleCaughtUp: seen.sampleLastSeq.every((s) => s === finalHead),
      finalHead,
      cpuMsPerVote: ((seen.cpuSeconds - cpu0) * 1000) / tokens.length,
    },
  };
}
