import { describe, expect, it } from "vitest";
import { liveSlots } from "./live-limits.js";

describe("live-results slots", () => {
  it("when one client holds its share, then it is refused while another client still gets a slot, and a release gives one back", () => {
    const slots = liveSlots({ perClient: 2, total: 10 });
    const a1 = slots.take("10.0.0.1");
    const a2 = slots.take("10.0.0.1");
    expect(a1 && a2).toBeTruthy();
    expect(slots.take("10.0.0.1")).toBeUndefined();
    expect(slots.take("10.0.0.2")).toBeTruthy();
    a1!();
    a1!(); // a second release of the same slot frees nothing more
    expect(slots.open).toBe(2);
    expect(slots.take("10.0.0.1")).toBeTruthy();
    expect(slots.take("10.0.0.1")).toBeUndefined();
  });

  it("when the server holds its total, then every client is refused until one closes", () => {
    const slots = liveSlots({ perClient: 5, total: 2 });
    const first = slots.take("a")!;
    slots.take("b");
    expect(slots.take("c")).toBeUndefined();
    first();
    expect(slots.take("c")).toBeTruthy();
  });
});
