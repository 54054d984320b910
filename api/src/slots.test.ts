import { describe, expect, it } from "vitest";
import { slotCounter } from "./slots.js";

describe("slot counter", () => {
  it("when one client holds its share, then it is refused while another client still gets a slot, and a release gives one back", () => {
    const slots = slotCounter({ perKey: 2, total: 10 });
    const a1 = slots.take("10.0.0.1");
    const a2 = slots.take("10.0.0.1");
    expect(typeof a1).toBe("function");
    expect(typeof a2).toBe("function");
    expect(slots.take("10.0.0.1")).toBe("key");
    expect(typeof slots.take("10.0.0.2")).toBe("function");
    (a1 as () => void)();
    (a1 as () => void)(); // a second release of the same slot frees nothing more
    expect(slots.open()).toBe(2);
    expect(typeof slots.take("10.0.0.1")).toBe("function");
    expect(slots.take("10.0.0.1")).toBe("key");
  });

  it("when the server holds its total, then every client is refused until one closes", () => {
    const slots = slotCounter({ perKey: 5, total: 2 });
    const first = slots.take("a") as () => void;
    slots.take("b");
    expect(slots.take("c")).toBe("total");
    first();
    expect(typeof slots.take("c")).toBe("function");
  });
});
