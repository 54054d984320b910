// Open live-results streams, counted per client address and in all: each one holds a socket and
// a listener for as long as the page stays open, so one client must not be able to hold them all.
export interface LiveLimits {
  perClient: number;
  total: number;
}

export function liveSlots(limits: LiveLimits) {
  const open = new Map<string, number>();
  let total = 0;
  return {
    /** A release function, or undefined when the client or the server is at its limit. */
    take(client: string): (() => void) | undefined {
      const mine = open.get(client) ?? 0;
      if (mine >= limits.perClient || total >= limits.total) return undefined;
      open.set(client, mine + 1);
      total++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        total--;
        const left = (open.get(client) ?? 1) - 1;
        if (left > 0) open.set(client, left);
        else open.delete(client);
      };
    },
    get open() {
      return total;
    },
  };
}
