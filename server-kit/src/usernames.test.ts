import { describe, expect, it } from "vitest";
import { canonicalUsername, USERNAME_PATTERN } from "./auth.js";

describe("canonicalUsername", () => {
  it("when names differ only in case or width, then they have one canonical form", () => {
    for (const v of ["dave", "Dave", "DAVE", "\uff24\uff41\uff56\uff45"]) expect(canonicalUsername(v)).toBe("dave");
  });

  it("when a name has letters outside a-z after normalising, then the pattern refuses it", () => {
    expect(USERNAME_PATTERN.test(canonicalUsername("Dav\u00e9"))).toBe(false);
    expect(USERNAME_PATTERN.test(canonicalUsername("\u0130van"))).toBe(false); // Turkish dotted I lower-cases to i + combining dot
    expect(USERNAME_PATTERN.test(canonicalUsername("Kelvin\u212a"))).toBe(true); // KELVIN SIGN is K
  });
});
