// Fans one computed result out to every watcher of an election. Bursts of counted
// ballots are coalesced into one update per interval (longer when computing takes long):
// a change after a quiet interval goes out at once, later ones wait for the interval's end;
// watchers never hold up counting.
export type Listener<T> = (value: T) => void;

interface Group<T> {
  listeners: Set<Listener<T>>;
  /** An update is scheduled or being computed. */
  busy: boolean;
  /** Something changed since the update being computed started. */
  dirty: boolean;
  tookMs: number;
  /** When the last compute started (performance.now()). */
  startedAt: number;
  timer?: NodeJS.Timeout;
}

export function broadcaster<T>(compute: (electionId: number) => Promise<T>, intervalMs: number, onError: (err: unknown) => void) {
  const groups = new Map<number, Group<T>>();

  const schedule = (electionId: number, g: Group<T>) => {
    g.busy = true;
    g.dirty = false;
    const wait = g.startedAt + Math.max(intervalMs, g.tookMs) - performance.now();
    g.timer = setTimeout(() => {
      const started = (g.startedAt = performance.now());
      compute(electionId)
        .then((value) => {
          for (const l of g.listeners) l(value);
        }, onError)
        .finally(() => {
          g.tookMs = performance.now() - started;
          g.busy = false;
          if (g.dirty && groups.get(electionId) === g) schedule(electionId, g);
        });
    }, Math.max(0, wait));
  };

  return {
    changed(electionId: number) {
      const g = groups.get(electionId);
      if (!g) return;
      if (g.busy) g.dirty = true;
      else schedule(electionId, g);
    },
    subscribe(electionId: number, listener: Listener<T>): () => void {
      let g = groups.get(electionId);
      if (!g) groups.set(electionId, (g = { listeners: new Set(), busy: false, dirty: false, tookMs: 0, startedAt: -Infinity }));
      g.listeners.add(listener);
      return () => {
        g.listeners.delete(listener);
        if (g.listeners.size === 0) {
          clearTimeout(g.timer);
          groups.delete(electionId);
        }
      };
    },
  };
}
