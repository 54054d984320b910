export { startVoteServer, type RunningVoteServer, type StreamStats } from "./app.js";
export { readVoteConfig, voteSettings, type VoteConfig } from "./config.js";
export type { RunningService } from "@voting/server-kit";
