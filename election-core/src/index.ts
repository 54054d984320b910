export * from "./ballot-log.js";
export * from "./plurality.js";
export type * from "./tally/types.js";
export * from "./tally/index.js";
