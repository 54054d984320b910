// Field tags (field number << 3 | wire type) of StreamBallotsResponse, BallotLogEntry and
// Ballot: one place for the hand-written encoder (vote-server) and decoder (here).
export const STREAM_BALLOTS_TAGS = {
  ENTRIES: 10,
  ELECTION_ID: 8,
  SEQ: 16,
  TRACKING_CODE: 26,
  BALLOT: 34,
  HASH: 42,
  COMMITMENT: 50,
  SALT: 58,
  CHOICE: 8,
  CHOICES_PACKED: 10,
} as const;
