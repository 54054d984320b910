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

export interface TallySigningKeysTable {
  kid: string;
  created_at: number;
  /** The private key sealed with the key-encryption key (AES-256-GCM); see server-kit signing-keys. */
  sealed_key: string | null;
}

/** The signed final result statement of each closed election; the first one written stands. */
export interface TallyStatementsTable {
  election_id: number;
  statement: string;
}

export interface TallyDb {
  tally_signing_keys: TallySigningKeysTable;
  tally_statements: TallyStatementsTable;
  tally_progress: TallyProgressTable;
  tally_ballots: TallyBallotsTable;
}
