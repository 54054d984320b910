// Periodic background work (reconciliation, schedules) that reads the store: the next run
// starts a period after the last one ended, never beside it. With setInterval, runs that took
// longer than the period (whole-log counts at a million ballots on a busy database) piled up
// and kept the database busy with copies of the same query.

/** Runs `fn` every `everyMs` after the previous run has settled; `stop()` ends it (a run in progress finishes). */
export function repeatWithoutOverlap(fn: () => Promise<unknown>, everyMs: number): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const next = () => {
    if (!stopped) timer = setTimeout(run, everyMs);
  };
  const run = () => {
    timer = undefined;
    fn().then(next, next);
  };
  next();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
