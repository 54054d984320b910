#!/usr/bin/env node
import { ConfigError, createLogger, onShutdownSignal, startTracing } from "@voting/server-kit";
import { startTallyServer } from "./app.js";
import { readTallyConfig } from "./config.js";

const log = createLogger("tally-server");
try {
  const config = readTallyConfig();
  startTracing("tally-server");
  const running = await startTallyServer(config, createLogger("tally-server", config.LOG_LEVEL));
  onShutdownSignal(running.stop);
} catch (err) {
  if (err instanceof ConfigError) console.error(err.message);
  else log.fatal({ err }, "tally-server failed to start");
  process.exit(1);
}
