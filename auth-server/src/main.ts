#!/usr/bin/env node
import { ConfigError, createLogger, onShutdownSignal, startTracing } from "@voting/server-kit";
import { startAuthServer } from "./app.js";
import { readAuthConfig } from "./config.js";

const log = createLogger("auth-server");
try {
  const config = readAuthConfig();
  startTracing("auth-server");
  const running = await startAuthServer(config, createLogger("auth-server", config.LOG_LEVEL));
  onShutdownSignal(running.stop);
} catch (err) {
  if (err instanceof ConfigError) console.error(err.message);
  else log.fatal({ err }, "auth-server failed to start");
  process.exit(1);
}
