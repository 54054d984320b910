import { stopTracing } from "./tracing.js";

/** Calls stop once on the first SIGINT or SIGTERM, then flushes buffered spans; a second signal exits at once. */
export function onShutdownSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    stop().then(stopTracing).then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`error while stopping after ${signal}:`, err);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
}
