// The typed client lives beside the contract in @voting/api (servers use it too); this
// package adds the user session and the `voting` CLI.
export * from "@voting/api";
export * from "./session.js";
// What the web front end shares with the CLI: the same checks, receipts and roll upload.
export { verifyBallot, verifyText, chainText, findReceipt, receiptRecord, normalTrackingCode, type ProofReport, type ChainReport, type SavedReceipt } from "./cli/verify-core.js";
export { CheckpointStore } from "./cli/checkpoint-store.js";
export { SplitViewError, evidenceText } from "./cli/tlog-check.js";
export { RefusedError } from "./cli/context.js";
export { uploadRoll, type RollProgress } from "./roll-upload.js";
