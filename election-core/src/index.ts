export * from "./ballot-log.js";
export * from "./plurality.js";
