import type { Generated } from "kysely";

export interface ElectionsTable {
  id: Generated<number>;
  title: string;
  description: string;
  method: string;
  seats: number;
  state: string;
  candidate_source: string;
  created_at: number;
  genesis_hash: string;
  head_seq: number;
  head_hash: string;
  /** Epoch milliseconds, or null when an official opens or closes it. */
  opens_at: number | null;
  closes_at: number | null;
  results_while_open: number;
  has_voter_roll: number;
  /** Ballot log format (docs/ballot-log.md): 1 for elections created before format 2, else 2. */
  log_format: number;
}

/** Candidates of elections with a candidate list (not the general election's users). */
export interface CandidatesTable {
  election_id: number;
  candidate_id: number;
  name: string;
}

export interface VoterRollsTable {
  election_id: number;
  username: string;
}

/** The public ballot log. No voter id and no time: see docs/ballot-log.md. */
export interface BallotsTable {
  election_id: number;
  seq: number;
  tracking_code: string;
  choices: string;
  hash: string;
  /** Format 2: the commitment the entry bytes carry, and its salt (hex); "" in format 1. */
  commitment: string;
  salt: string;
}

/** Who has voted. Linked to no ballot row; the receipt is sealed with the voter's idempotency key. */
export interface ParticipationsTable {
  election_id: number;
  voter_id: number;
  commitment: string;
  sealed_receipt: string;
}

/** Complete subtrees of an election's Merkle tree (docs/transparency-log.md): level 0 are the leaves. */
export interface TlogNodesTable {
  election_id: number;
  level: number;
  idx: number;
  hash: Buffer;
}

/** Signed checkpoints of an election's log, one per tree size. */
export interface CheckpointsTable {
  election_id: number;
  tree_size: number;
  note: string;
}

export interface VoteDb {
  elections: ElectionsTable;
  candidates: CandidatesTable;
  voter_rolls: VoterRollsTable;
  ballots: BallotsTable;
  participations: ParticipationsTable;
  tlog_nodes: TlogNodesTable;
  checkpoints: CheckpointsTable;
}
