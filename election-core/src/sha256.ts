// SHA-256 for code that hashes millions of small inputs. node:crypto's one-shot hash returns a
// string far faster than a Buffer (a fresh Buffer is a C++ allocation each time, about three
// times the cost of hashing 150 bytes), so digests come out as a binary (latin1) string and are copied in place.
import { hash } from "node:crypto";

/** Writes SHA-256(data) into out[at .. at + 32). */
export function sha256Into(data: Uint8Array, out: Uint8Array, at: number): void {
  const digest = hash("sha256", data, "binary");
  for (let i = 0; i < 32; i++) out[at + i] = digest.charCodeAt(i);
}
