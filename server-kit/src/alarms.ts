// Integrity alarms about one election (a broken ballot chain, a turnout mismatch): they are
// shown in that election's status, logged and counted, and never take the server out of
// service, so every other election goes on.
import { Gauge, type Registry } from "prom-client";
import type { Logger } from "./logger.js";

export interface IntegrityAlarms {
  /** Raises (or updates) the alarm `kind` of an election; logs it when it is new or changed. */
  raise(electionId: number, kind: string, detail: string): void;
  /** Clears the alarm `kind` of an election, if raised. */
  clear(electionId: number, kind: string): void;
  /** Elections with a `kind` alarm. */
  raised(kind: string): number[];
  /** The election's alarms as "kind: detail", in kind order. */
  of(electionId: number): string[];
}

export function integrityAlarms(log: Logger, registry: Registry): IntegrityAlarms {
  const alarms = new Map<number, Map<string, string>>();
  const count = (kind: string) => [...alarms.values()].filter((m) => m.has(kind)).length;
  const gauge = new Gauge({ name: "integrity_alarms", help: "Elections with a raised integrity alarm, by kind", labelNames: ["kind"] as const, registers: [registry] });
  return {
    raise(electionId, kind, detail) {
      const mine = alarms.get(electionId) ?? new Map<string, string>();
      alarms.set(electionId, mine);
      if (mine.get(kind) === detail) return;
      mine.set(kind, detail);
      gauge.set({ kind }, count(kind));
      log.error({ electionId, alarm: kind, detail }, "integrity alarm raised for one election; the others go on");
    },
    clear(electionId, kind) {
      if (!alarms.get(electionId)?.delete(kind)) return;
      if (alarms.get(electionId)!.size === 0) alarms.delete(electionId);
      gauge.set({ kind }, count(kind));
      log.warn({ electionId, alarm: kind }, "integrity alarm cleared");
    },
    raised: (kind) => [...alarms].filter(([, m]) => m.has(kind)).map(([id]) => id),
    of: (electionId) => [...(alarms.get(electionId) ?? [])].sort(([a], [b]) => a.localeCompare(b)).map(([kind, detail]) => `${kind}: ${detail}`),
  };
}
