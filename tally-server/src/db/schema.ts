/** How far the tally has read each election's log, and the chain hash there. */
export interface TallyProgressTable {
  election_id: number;
  last_seq: number;
  last_hash: string;
}

/** Identical ballots counted once: the multiset that every method counts from. */
export interface TallyBallotsTable {
  election_id: number;
  ballot_key: string;
  choices: string;
  n_ballots: number;
}

export interface TallyDb {
  tally_progress: TallyProgressTable;
  tally_ballots: TallyBallotsTable;
}
