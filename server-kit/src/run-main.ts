// The one entry point of every server: read the config, start, stop on SIGINT/SIGTERM.
// A bad config prints its problems (all at once) without a stack; any other failure is fatal.
import { ConfigError } from "./config.js";
import { createLogger, type Logger } from "./logger.js";
import { onShutdownSignal } from "./shutdown.js";
import { startTracing } from "./tracing.js";

export interface MainSpec<C extends { LOG_LEVEL: string }> {
  /** Service name in every log line, e.g. "vote-server". */
  name: string;
  readConfig(): C;
  start(config: C, log: Logger): Promise<{ stop(): Promise<void> }>;
}

export async function runMain<C extends { LOG_LEVEL: string }>(spec: MainSpec<C>): Promise<void> {
  const log = createLogger(spec.name);
  try {
    const config = spec.readConfig();
    startTracing(spec.name);
    const running = await spec.start(config, createLogger(spec.name, config.LOG_LEVEL));
    onShutdownSignal(running.stop);
  } catch (err) {
    if (err instanceof ConfigError) console.error(err.message);
    else log.fatal({ err }, `${spec.name} failed to start`);
    process.exit(1);
  }
}
