import { describe, expect, it } from "vitest";
import { checkText, unsafeCharacter } from "./text.js";

describe("checkText", () => {
  it("when text holds a control, DEL, C1 or bidi formatting character, then it names the code point and position", () => {
    for (const [text, found] of [
      ["a\u0000", "U+0000 at position 2"],
      ["\u001b[2J", "U+001B at position 1"],
      ["ab\u007f", "U+007F at position 3"],
      ["\u0085", "U+0085 at position 1"],
      ["é\u202etxt", "U+202E at position 2"],
      ["x\u2067", "U+2067 at position 2"],
      ["\u200f", "U+200F at position 1"],
      ["\u061c", "U+061C at position 1"],
      ["😀\n", "U+000A at position 2"],
    ]) {
      expect(unsafeCharacter(text)).toBe(found);
    }
    expect(() => checkText("Board\u202e", "title")).toThrow("title must not contain control or bidirectional formatting characters (U+202E at position 6)");
  });

  it("when text is ordinary in any script, then it passes unchanged", () => {
    for (const text of ["Ada Lovelace", "Zoë", "גרייס הופר", "محمد", "李小龙", "👩‍💻 team", ""]) expect(checkText(text, "name")).toBe(text);
  });
});
