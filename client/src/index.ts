// The typed client lives beside the contract in @voting/api (servers use it too); this
// package adds the user session and the `voting` CLI.
export * from "@voting/api";
export * from "./session.js";
