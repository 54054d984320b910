import { describe, expect, it } from "vitest";
import { ceilDiv, floorDiv, formatFixed, Rational } from "./arithmetic.js";

describe("arithmetic", () => {
  it("keeps fractions exact and in lowest terms", () => {
    const third = Rational.of(1, 3);
    expect(third.add(third).add(third).cmp(Rational.ONE)).toBe(0);
    expect(Rational.of(6, -4).key()).toBe("-3/2");
    expect(Rational.of(2, 3).mul(Rational.of(3, 4)).div(Rational.of(1, 2)).key()).toBe("1/1");
    expect(Rational.of(5).sub(Rational.of(7)).cmp(Rational.ZERO)).toBe(-1);
  });

  it("truncates like the Scottish rules: remainders ignored", () => {
    expect(Rational.of(129, 2043).truncate(5).toFixed(5)).toBe("0.06314");
    expect(Rational.of(2, 3).toFixed(9)).toBe("0.666666666");
    expect(Rational.of(1914).toFixed(5)).toBe("1914.00000");
  });

  it("formats fixed-point units", () => {
    expect(formatFixed(0n, 5)).toBe("0.00000");
    expect(formatFixed(123n, 5)).toBe("0.00123");
    expect(formatFixed(-191400000n, 5)).toBe("-1914.00000");
    expect(formatFixed(42n, 0)).toBe("42");
  });

  it("divides BigInts with floor and ceiling", () => {
    expect([floorDiv(7n, 2n), floorDiv(-7n, 2n), ceilDiv(7n, 2n), ceilDiv(-7n, 2n), ceilDiv(8n, 2n)]).toEqual([3n, -4n, 4n, -3n, 4n]);
  });
});
