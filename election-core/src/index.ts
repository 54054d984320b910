export * from "./ballot-log.js";
export type * from "./tally/types.js";
export * from "./tally/index.js";
export * from "./tlog/index.js";
