// Text a person will read (names, titles, descriptions) must not carry characters that act on
// the reader's terminal or reorder what is shown: C0 and C1 controls and DEL (escape
// sequences, carriage returns, NUL), the bidirectional embeddings, overrides and isolates
// (U+202A-U+202E, U+2066-U+2069, "Trojan Source"), the invisible direction marks
// (U+200E, U+200F, U+061C), and the Unicode line and paragraph separators.
import { InvalidArgumentError } from "./errors.js";

export const UNSAFE_TEXT = /[\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/u;

/** The first unsafe character of `value` as "U+XXXX at position n", or undefined. */
export function unsafeCharacter(value: string): string | undefined {
  const m = UNSAFE_TEXT.exec(value);
  if (!m) return undefined;
  return `U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")} at position ${[...value.slice(0, m.index)].length + 1}`;
}

/** Returns `value`, or throws INVALID_ARGUMENT naming `label` and the character (never echoing it); `field` is the request field at fault. */
export function checkText(value: string, label: string, field = label): string {
  const found = unsafeCharacter(value);
  if (found) throw new InvalidArgumentError(`${label} must not contain control or bidirectional formatting characters (${found})`, { field, reason: "UNSAFE_TEXT" });
  return value;
}
