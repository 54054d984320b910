// Health that tells the truth about the store: a cheap query now and then (and at once after
// any query found the database unreachable) keeps the "database" health condition current.
import { sql } from "kysely";
import type { Database } from "./db.js";
import type { Logger } from "./logger.js";

export interface DatabaseWatch {
  /** Probes now; resolves with whether the database answered. */
  check(): Promise<boolean>;
  stop(): void;
}

/**
 * Runs `select 1` every everyMs (at most one at a time, failing after timeoutMs), and right
 * after a query failed with DatabaseUnavailableError; reports each change to setServing.
 */
export function watchDatabase(db: Database<any>, opts: { everyMs: number; timeoutMs?: number; log: Logger; setServing(ok: boolean, condition: string): void }): DatabaseWatch {
  const timeoutMs = opts.timeoutMs ?? Math.min(2_000, opts.everyMs);
  let ok = true;
  let running: Promise<boolean> | undefined;
  let stopped = false;
  const report = (now: boolean, err?: unknown) => {
    if (now === ok || stopped) return;
    ok = now;
    if (now) opts.log.info("the database answers again; SERVING");
    else opts.log.warn({ err }, "the database cannot be reached; NOT_SERVING until it can");
    opts.setServing(now, "database");
  };
  const probe = async (): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer to select 1 within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([sql`select 1`.execute(db.kysely), timeout]);
      report(true);
      return true;
    } catch (err) {
      report(false, err);
      return false;
    } finally {
      clearTimeout(timer);
    }
  };
  const check = () => (running ??= probe().finally(() => (running = undefined)));
  const timer = setInterval(() => void check(), opts.everyMs);
  timer.unref();
  // A lock wait timeout is an "outage" to the caller too, so the probe, not the failed query, decides.
  const unsubscribe = db.onOutage(() => void check());
  return {
    check,
    stop() {
      stopped = true;
      clearInterval(timer);
      unsubscribe();
    },
  };
}
