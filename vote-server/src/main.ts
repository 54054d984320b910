#!/usr/bin/env node
import { ConfigError, createLogger, onShutdownSignal, startTracing } from "@voting/server-kit";
import { startVoteServer } from "./app.js";
import { readVoteConfig } from "./config.js";

const log = createLogger("vote-server");
try {
  const config = readVoteConfig();
  startTracing("vote-server");
  const running = await startVoteServer(config, createLogger("vote-server", config.LOG_LEVEL));
  onShutdownSignal(running.stop);
} catch (err) {
  if (err instanceof ConfigError) console.error(err.message);
  else log.fatal({ err }, "vote-server failed to start");
  process.exit(1);
}
