// Wakes StreamBallots followers when entries are appended. Appends by other replicas are
// not announced here, so followers also poll.
import { EventEmitter } from "node:events";

export function logFeed(pollMs = 500) {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    appended(electionId: number, headSeq: number) {
      emitter.emit(String(electionId), headSeq);
    },
    /** Resolves when entries after `afterSeq` may exist: on an append, after pollMs, or on abort. */
    wait(electionId: number, afterSeq: number, signal: AbortSignal): Promise<void> {
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          emitter.off(String(electionId), onAppend);
          signal.removeEventListener("abort", done);
          resolve();
        };
        const onAppend = (head: number) => head > afterSeq && done();
        const timer = setTimeout(done, pollMs);
        emitter.on(String(electionId), onAppend);
        signal.addEventListener("abort", done, { once: true });
        if (signal.aborted) done();
      });
    },
  };
}

export type LogFeed = ReturnType<typeof logFeed>;
