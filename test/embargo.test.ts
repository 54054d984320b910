// The embargo holds: while an election with embargoed results is open, nobody without a login
// can tell from the public ballot log how any ballot voted, not even by trying every possible
// ballot against the published hashes and commitments. The attacker here uses only node:crypto
// and the public API, no code of the servers.
import { expect, it } from "vitest";
import { createHash } from "node:crypto";
import { voteV1, type VotingClient } from "@voting/client";
import { describeOnStores, eventually, uniqueName, type System } from "./harness.js";

const M = voteV1.BallotMethod;
const CANDIDATES = ["A", "B", "C", "D"];
const ids = CANDIDATES.map((_, i) => i + 1);

const sha256 = (...parts: (string | Buffer)[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex");
};

/** Every ballot the method accepts over these candidates. */
function possibleBallots(method: voteV1.BallotMethod): number[][] {
  if (method === M.BALLOT_METHOD_PLURALITY) return ids.map((c) => [c]);
  const subsets: number[][] = [];
  for (let mask = 1; mask < 1 << ids.length; mask++) subsets.push(ids.filter((_, i) => mask & (1 << i)));
  if (method === M.BALLOT_METHOD_APPROVAL) return subsets;
  const permutations = (xs: number[]): number[][] => (xs.length <= 1 ? [xs] : xs.flatMap((x) => permutations(xs.filter((y) => y !== x)).map((p) => [x, ...p])));
  return subsets.flatMap(permutations);
}

type PublicEntry = voteV1.BallotLogEntry;

/**
 * Every way we know to get a ballot out of public data: the log-v1 hash over the choices, a
 * commitment without a salt (or with any public field as the salt), the log-v2 chain over such a
 * commitment, and a published salt if there were one. Returns the ballots each entry matches.
 */
function bruteForce(entries: PublicEntry[], genesis: string, ballots: number[][]): Map<number, number[][]> {
  const found = new Map<number, number[][]>();
  let prev = genesis;
  for (const e of entries) {
    const matches: number[][] = [];
    for (const b of ballots) {
      const text = b.join(",");
      const v1 = sha256(Buffer.from(prev, "hex"), `voting-ballot-log-v1\n${e.electionId}\n${e.seq}\n${e.trackingCode}\n${text}\n`);
      const salts = [Buffer.alloc(0), Buffer.alloc(32), Buffer.from(e.trackingCode), Buffer.from(String(e.seq)), Buffer.from(e.hash, "hex")];
      const salt = (e as { salt?: string }).salt;
      if (salt) salts.push(Buffer.from(salt, "hex"));
      const guesses = [sha256(text), sha256(`${text}\n`), ...salts.map((s) => sha256("voting-ballot-commitment-v2\n", s, `${text}\n`))];
      const commitment = (e as { commitment?: string }).commitment;
      const v2 = guesses.map((c) => sha256(Buffer.from(prev, "hex"), `voting-ballot-log-v2\n${e.electionId}\n${e.seq}\n${e.trackingCode}\n${c}\n`));
      if (v1 === e.hash || v2.includes(e.hash) || (commitment && guesses.includes(commitment))) matches.push(b);
    }
    // Matching every possible ballot determines nothing.
    if (matches.length > 0 && matches.length < ballots.length) found.set(e.seq, matches);
    prev = e.hash;
  }
  return found;
}

async function publicLog(anon: VotingClient, electionId: number): Promise<PublicEntry[]> {
  const out: PublicEntry[] = [];
  for await (const m of await anon.votes.streamBallots({ electionId, afterSeq: 0 })) out.push(...(m as voteV1.StreamBallotsResponse).entries);
  return out;
}

/** An open election with embargoed results and a few ballots, two of them the same. */
async function embargoedElection(sys: System, method: voteV1.BallotMethod) {
  const admin = sys.client(await sys.adminToken());
  const { election } = await admin.elections.createElection({ title: uniqueName("Embargo"), method, candidates: CANDIDATES });
  const id = election!.id;
  await admin.elections.openElection({ electionId: id });
  const cast = method === M.BALLOT_METHOD_PLURALITY ? [[2], [2], [4], [1], [3]] : method === M.BALLOT_METHOD_APPROVAL ? [[1, 3], [1, 3], [2], [1, 2, 3, 4], [4]] : [[3, 1], [3, 1], [2, 4, 1], [4, 3, 2, 1], [1]];
  const codes: string[] = [];
  for (const choices of cast) {
    const v = await sys.user("voter");
    codes.push((await sys.client(v.token).votes.castVote({ electionId: id, ballot: { choices } })).receipt!.trackingCode);
  }
  return { id, admin, cast, codes };
}

describeOnStores("embargo against brute force", (system) => {
  for (const [name, method] of [
    ["plurality", M.BALLOT_METHOD_PLURALITY],
    ["approval", M.BALLOT_METHOD_APPROVAL],
    ["irv", M.BALLOT_METHOD_IRV],
  ] as const) {
    it(`when anyone tries every ${name} ballot against an embargoed open election's public log, then no entry's content is determined`, async () => {
      const sys = system();
      const { id, admin, cast, codes } = await embargoedElection(sys, method);
      const anon = sys.client();
      const { election } = await anon.elections.getElection({ electionId: id });
      const entries = await publicLog(anon, id);
      expect(entries).toHaveLength(cast.length);
      const receipts = await Promise.all(codes.map(async (trackingCode) => (await anon.votes.getReceipt({ trackingCode })).entry!));
      for (const e of [...entries, ...receipts]) {
        expect(e.ballot).toBeUndefined();
        expect((e as { salt?: string }).salt ?? "").toBe("");
      }
      const ballots = possibleBallots(method);
      expect(bruteForce(entries, election!.logGenesisHash, ballots)).toEqual(new Map());
      // GetReceipt shows the same public fields as the stream, nothing more.
      const bySeq = new Map(entries.map((e) => [e.seq, e]));
      for (const r of receipts) expect(r).toEqual(bySeq.get(r.seq));
      // Identical ballots do not look identical.
      const commitments = entries.map((e) => (e as { commitment?: string }).commitment);
      expect(new Set(commitments).size).toBe(entries.length);

      // After the close the log opens: the same attacker now reads every ballot, so the test
      // above was not blind.
      await admin.elections.closeElection({ electionId: id });
      const opened = await eventually(async () => {
        const log = await publicLog(anon, id);
        return log.every((e) => e.ballot) ? log : undefined;
      });
      const recovered = bruteForce(opened, election!.logGenesisHash, ballots);
      for (const e of opened) expect(recovered.get(e.seq)).toEqual([e.ballot!.choices]);
      expect(opened.map((e) => e.ballot!.choices).sort()).toEqual(cast.map((c) => (method === M.BALLOT_METHOD_APPROVAL ? [...c].sort() : c)).sort());
    });
  }
});
