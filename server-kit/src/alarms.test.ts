import { describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import { integrityAlarms } from "./alarms.js";
import { createLogger } from "./logger.js";

describe("integrity alarms", () => {
  it("when alarms are raised and cleared, then each election shows only its own, and the gauge counts elections per kind", async () => {
    const registry = new Registry();
    const alarms = integrityAlarms(createLogger("test", "silent"), registry);
    alarms.raise(1, "reconciliation", "13 ballots, turnout 12");
    alarms.raise(1, "ballot-chain", "entry 13 does not follow 12");
    alarms.raise(2, "reconciliation", "5 ballots, turnout 4");
    expect(alarms.of(1)).toEqual(["ballot-chain: entry 13 does not follow 12", "reconciliation: 13 ballots, turnout 12"]);
    expect(alarms.of(3)).toEqual([]);
    expect(alarms.raised("reconciliation")).toEqual([1, 2]);
    const gauge = async () => Object.fromEntries((await registry.getSingleMetric("integrity_alarms")!.get()).values.map((v) => [v.labels.kind, v.value]));
    expect(await gauge()).toEqual({ reconciliation: 2, "ballot-chain": 1 });

    alarms.clear(1, "reconciliation");
    alarms.clear(1, "not-raised");
    expect(alarms.of(1)).toEqual(["ballot-chain: entry 13 does not follow 12"]);
    expect(alarms.raised("reconciliation")).toEqual([2]);
    expect(await gauge()).toEqual({ reconciliation: 1, "ballot-chain": 1 });
  });
});
