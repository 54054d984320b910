// Open things (server streams, live result pages) counted per key and in all, so that one
// caller cannot hold them all. A slot is held until its idempotent release is called.
export interface SlotLimits {
  perKey: number;
  total: number;
}

export function slotCounter(limits: SlotLimits) {
  const byKey = new Map<string, number>();
  let open = 0;
  return {
    /** The slot's release, or which limit refused it. */
    take(key: string): (() => void) | "key" | "total" {
      const mine = byKey.get(key) ?? 0;
      if (mine >= limits.perKey) return "key";
      if (open >= limits.total) return "total";
      byKey.set(key, mine + 1);
      open++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        open--;
        const left = byKey.get(key)! - 1;
        if (left === 0) byKey.delete(key);
        else byKey.set(key, left);
      };
    },
    /** Slots held now. */
    open: () => open,
  };
}
