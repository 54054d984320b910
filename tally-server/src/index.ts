export { startTallyServer, type RunningService } from "./app.js";
export { readTallyConfig, tallySettings, type TallyConfig } from "./config.js";
