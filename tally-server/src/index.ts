export { startTallyServer } from "./app.js";
export { readTallyConfig, tallySettings, type TallyConfig } from "./config.js";
export type { RunningService } from "@voting/server-kit";
