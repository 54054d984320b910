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
}

/** The public ballot log. No voter id and no time: see docs/ballot-log.md. */
export interface BallotsTable {
  election_id: number;
  seq: number;
  tracking_code: string;
  choices: string;
  hash: string;
}

/** Who has voted. Linked to no ballot row; the receipt is sealed with the voter's idempotency key. */
export interface ParticipationsTable {
  election_id: number;
  voter_id: number;
  commitment: string;
  sealed_receipt: string;
}

export interface VoteDb {
  elections: ElectionsTable;
  ballots: BallotsTable;
  participations: ParticipationsTable;
}
