// A transparency log per election: RFC 9162 Merkle trees, C2SP signed checkpoints and
// witness cosignatures. docs/transparency-log.md describes the formats.
export * from "./merkle.js";
export * from "./proofs.js";
export * from "./tree.js";
export * from "./note.js";
export * from "./cosignature.js";
export * from "./checkpoint.js";
