export * from "./client.js";
export * from "./session.js";
export { authV1, voteV1, tallyV1, logV1 } from "@voting/api";
export * from "./result-mapping.js";
export * from "./enums.js";
// What the web front end shares with the CLI: the same checks, receipts and roll upload.
export { verifyBallot, verifyText, chainText, findReceipt, receiptRecord, normalTrackingCode, type ProofReport, type ChainReport, type SavedReceipt } from "./cli/verify-core.js";
export { CheckpointStore } from "./cli/checkpoint-store.js";
export { SplitViewError, evidenceText } from "./cli/tlog-check.js";
export { RefusedError } from "./cli/context.js";
export { uploadRoll, type RollProgress } from "./roll-upload.js";
