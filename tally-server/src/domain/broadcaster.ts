// Fans one computed result out to every watcher of an election. Bursts of counted
// ballots are coalesced into one update per interval; watchers never hold up counting.
export type Listener<T> = (value: T) => void;

export function broadcaster<T>(compute: (electionId: number) => Promise<T>, intervalMs: number, onError: (err: unknown) => void) {
  const groups = new Map<number, { listeners: Set<Listener<T>>; timer?: NodeJS.Timeout }>();
  return {
    changed(electionId: number) {
      const g = groups.get(electionId);
      if (!g || g.timer) return;
      g.timer = setTimeout(() => {
        g.timer = undefined;
        compute(electionId).then((value) => {
          for (const l of g.listeners) l(value);
        }, onError);
      }, intervalMs);
    },
    subscribe(electionId: number, listener: Listener<T>): () => void {
      let g = groups.get(electionId);
      if (!g) groups.set(electionId, (g = { listeners: new Set() }));
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
