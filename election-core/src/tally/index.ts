// The tally library: tabulate() for every method, ballot file parsers, and the vocabulary.
export * from "./types.js";
export { tabulate } from "./tabulate.js";
export { TallyInputError } from "./ballots.js";
export { RankingMultiset } from "./multiset.js";
export { tieBreakOrder } from "./ties.js";
export { BltReader, readBlt } from "./blt.js";
export type { BltFile } from "./blt.js";
export { parseBallotFile, parseBlt, parsePrefLib, readBallotFile, TallyFileError } from "./formats.js";
export type { BallotFile, PrefLibKind } from "./formats.js";
