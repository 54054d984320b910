// Periodic background work (reconciliation, schedules) that reads the store: the next run
// starts a period after the last one ended, never beside it. With setInterval, runs that took
// longer than the period (whole-log counts at a million ballots on a busy database) piled up
// and kept the database busy with copies of the same query.

export interface RepeatOptions {
  /**
   * Most share of the time (0 to 1) the work may take: after a run of d ms the next waits
   * max(everyMs, d × (1 − share) / share). Work that grows with the data (whole-log counts)
   * then runs less often as it grows, instead of taking more of the database.
   */
  busyShare?: number;
}

/** Runs `fn` every `everyMs` after the previous run has settled; `stop()` ends it (a run in progress finishes). */
export function repeatWithoutOverlap(fn: () => Promise<unknown>, everyMs: number, { busyShare = 1 }: RepeatOptions = {}): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const next = (tookMs: number) => {
    if (!stopped) timer = setTimeout(run, Math.max(everyMs, (tookMs * (1 - busyShare)) / busyShare));
  };
  const run = () => {
    timer = undefined;
    const started = Date.now();
    const settled = () => next(Date.now() - started);
    fn().then(settled, settled);
  };
  next(0);
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
