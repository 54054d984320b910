// The vote-server's use cases for voters and readers: read elections, cast a ballot, read
// the log.
import { InvalidArgumentError, NotFoundError, PermissionDeniedError, type Principal, type Upstream } from "@voting/server-kit";
import type { BallotRepository, LogRow } from "../db/ballot-repository.js";
import type { ElectionRepository } from "../db/election-repository.js";
import type { BallotBox } from "./ballot-box.js";
import { canonicalChoices } from "./ballot-rules.js";
import type { CandidateDirectory } from "./candidates.js";
import { electionNotFound, electionNotOpen, takesBallots, type Candidate, type Election, type ElectionState } from "./elections.js";
import type { Receipt } from "./receipts.js";

export interface VotingDeps {
  elections: ElectionRepository;
  ballots: BallotRepository;
  directory: CandidateDirectory;
  box: BallotBox;
}

export interface ElectionView {
  election: Election;
  candidates: Candidate[];
  rollSize: number;
  turnout: number;
}

export interface VoterStanding {
  mayVote: boolean;
  hasVoted: boolean;
}

const CACHE_MS = 1_000;

interface ElectionEntry {
  election: Election;
  candidates: Set<number>;
}

/** The ballot's choices in canonical form, if the election takes it now (throws otherwise). */
function checkedChoices(e: Election, choices: number[]): number[] {
  if (!takesBallots(e, Date.now())) throw electionNotOpen(e);
  return canonicalChoices(e.id, e.method, choices);
}

export function votingService({ elections, ballots, directory, box }: VotingDeps) {
  // Election metadata changes rarely; the commit re-reads the state under the log lock.
  // Holds the load in flight too, so that thousands of stream followers missing at once share one read.
  const cache = new Map<number, { at: number; entry: Promise<ElectionEntry>; value?: ElectionEntry }>();
  const load = async (id: number): Promise<ElectionEntry> => {
    const election = await elections.get(id);
    if (!election) throw electionNotFound(id);
    const listed = election.candidateSource === "list" ? await elections.candidates(id) : [];
    return { election, candidates: new Set(listed.map((c) => c.id)) };
  };
  const cached = (id: number) => {
    const hit = cache.get(id);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.entry;
    const entry = load(id);
    const slot: { at: number; entry: Promise<ElectionEntry>; value?: ElectionEntry } = { at: Date.now(), entry };
    cache.set(id, slot);
    entry.then(
      (value) => (slot.value = value),
      () => cache.get(id) === slot && cache.delete(id),
    );
    return entry;
  };
  /** The cached entry if it is fresh and already read, else undefined. */
  const cachedNow = (id: number) => {
    const hit = cache.get(id);
    return hit && Date.now() - hit.at < CACHE_MS ? hit.value : undefined;
  };

  const candidatesOf = (e: Election, upstream?: Upstream): Promise<Candidate[]> =>
    e.candidateSource === "list" ? elections.candidates(e.id) : directory.list(upstream);

  const isCandidate = async (entry: ElectionEntry, id: number, upstream?: Upstream) =>
    entry.election.candidateSource === "list" ? entry.candidates.has(id) : directory.isCandidate(id, upstream);

  const notACandidate = (c: number, electionId: number) => new InvalidArgumentError(`${c} is not a candidate in election ${electionId}`, { field: "ballot.choices", reason: "NOT_A_CANDIDATE" });

  async function castChecked(voter: Principal, req: { electionId: number; choices: number[]; idempotencyKey: Buffer }, upstream?: Upstream): Promise<Receipt> {
    const entry = await cached(req.electionId);
    const e = entry.election;
    const choices = checkedChoices(e, req.choices);
    for (const c of choices) {
      if (!(await isCandidate(entry, c, upstream))) throw notACandidate(c, e.id);
    }
    if (e.hasVoterRoll && !(await elections.isOnRoll(e.id, voter.username))) {
      throw new PermissionDeniedError(`${voter.username} is not on the voter roll of election ${e.id}`, { reason: "NOT_ON_VOTER_ROLL", metadata: { electionId: String(e.id) } });
    }
    return box.cast({ ...req, choices, voterId: voter.userId });
  }

  return {
    /** `turnout: false` skips the ledger's whole-log counts; turnout is then 0. */
    async getElection(id: number, upstream?: Upstream, { turnout = true }: { turnout?: boolean } = {}): Promise<ElectionView> {
      const e = await elections.get(id);
      if (!e) throw electionNotFound(id);
      const [candidates, rollSize, ledger] = await Promise.all([
        candidatesOf(e, upstream),
        e.hasVoterRoll ? elections.rollSize(id) : Promise.resolve(0),
        e.state === "draft" || !turnout ? Promise.resolve(undefined) : ballots.ledger(id),
      ]);
      // Ballot count, head hash and turnout from one snapshot: they describe the same head, and
      // agree unless the store was tampered with.
      return { election: ledger ? { ...e, headSeq: ledger.headSeq, headHash: ledger.headHash } : e, candidates, rollSize, turnout: ledger?.turnout ?? 0 };
    },

    listElections: (q: { state?: ElectionState; afterId: number; limit: number }) => elections.list(q),

    /** For a voter: per election, whether they may vote in it (state aside) and whether they have. */
    async standings(voter: Principal, list: Election[]): Promise<Map<number, VoterStanding>> {
      const out = new Map<number, VoterStanding>();
      if (voter.role !== "voter") return out;
      const ids = list.map((e) => e.id);
      const [onRoll, voted] = await Promise.all([
        elections.rollsHolding(list.filter((e) => e.hasVoterRoll).map((e) => e.id), voter.username),
        ballots.votedIn(ids, voter.userId),
      ]);
      for (const e of list) {
        const hasVoted = voted.has(e.id);
        out.set(e.id, { mayVote: !hasVoted && (!e.hasVoterRoll || onRoll.has(e.id)), hasVoted });
      }
      return out;
    },

    forget(id: number) {
      cache.delete(id);
    },

    cast(voter: Principal, req: { electionId: number; choices: number[]; idempotencyKey: Buffer }, upstream?: Upstream): Promise<Receipt> {
      // The common case (a read election with a candidate list and no roll) decides without an
      // await, so a vote costs no more promises and turns of the loop than the box's own.
      try {
        if (voter.role !== "voter") throw new PermissionDeniedError("only voters may vote", { reason: "ROLE_NOT_ALLOWED" });
        const entry = cachedNow(req.electionId);
        if (entry && entry.election.candidateSource === "list" && !entry.election.hasVoterRoll) {
          const choices = checkedChoices(entry.election, req.choices);
          for (const c of choices) if (!entry.candidates.has(c)) throw notACandidate(c, entry.election.id);
          return box.cast({ ...req, choices, voterId: voter.userId });
        }
      } catch (err) {
        return Promise.reject(err);
      }
      return castChecked(voter, req, upstream);
    },

    async receipt(trackingCode: string): Promise<{ row: LogRow; election: Election }> {
      const row = await ballots.findByTrackingCode(trackingCode);
      if (!row) throw new NotFoundError(`no ballot has tracking code ${trackingCode}`, { reason: "BALLOT_NOT_FOUND" });
      return { row, election: (await cached(row.electionId)).election };
    },

    async election(id: number): Promise<Election> {
      return (await cached(id)).election;
    },

    readLog: (electionId: number, afterSeq: number, limit: number) => ballots.readLog(electionId, afterSeq, limit),
  };
}

export type VotingService = ReturnType<typeof votingService>;

/** Whether ballot content is hidden from this caller: embargoed results while open. */
export function contentSealed(e: Election, caller: Principal | undefined): boolean {
  return !e.resultsWhileOpen && e.state !== "closed" && caller?.role !== "service";
}
