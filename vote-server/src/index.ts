export { startVoteServer, type RunningService } from "./app.js";
export { readVoteConfig, voteSettings, type VoteConfig } from "./config.js";
