export * from "./client.js";
export * from "./session.js";
export { authV1, voteV1, tallyV1, logV1 } from "@voting/api";
export * from "./result-mapping.js";
export * from "./enums.js";
