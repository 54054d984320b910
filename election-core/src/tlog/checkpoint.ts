// C2SP tlog-checkpoint: a signed note whose text is "<origin>\n<tree size>\n<base64 root>\n"
// plus optional non-empty extension lines. docs/transparency-log.md names our origins and keys.
import { cosignatureTime } from "./cosignature.js";
import { HASH_SIZE } from "./merkle.js";
import { NoteError, decodeBase64Strict, isValidKeyName, openNote, signNote, type NoteSignature, type NoteSigner, type NoteVerifier } from "./note.js";

export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Buffer;
  extensions: string[];
}

export interface OpenedCheckpoint {
  checkpoint: Checkpoint;
  /** The note text: exactly what the log and the witnesses signed. */
  text: string;
  /** Valid cosignatures by the given witness keys, with their times (POSIX seconds). */
  cosignatures: (NoteSignature & { time: number })[];
}

/** The origin (and log key name) of an election's log: "<log name>/election/<id>". */
export function electionOrigin(logName: string, electionId: number): string {
  if (!Number.isSafeInteger(electionId) || electionId < 1) throw new RangeError(`bad election id ${electionId}`);
  const origin = `${logName}/election/${electionId}`;
  if (logName === "" || !isValidKeyName(origin)) throw new RangeError(`a log name has no spaces or "+": ${JSON.stringify(logName)}`);
  return origin;
}

/** The note text of a checkpoint. */
export function formatCheckpoint(c: Checkpoint): string {
  if (c.origin === "" || /[\n\x00-\x1f]/.test(c.origin)) throw new NoteError("malformed", "a checkpoint origin is one non-empty line");
  if (!Number.isSafeInteger(c.size) || c.size < 0) throw new NoteError("malformed", `bad tree size ${c.size}`);
  if (c.rootHash.length !== HASH_SIZE) throw new NoteError("malformed", `a root hash is ${HASH_SIZE} bytes`);
  for (const e of c.extensions) if (e === "" || /[\n\x00-\x1f]/.test(e)) throw new NoteError("malformed", "an extension line is one non-empty line");
  return [c.origin, String(c.size), c.rootHash.toString("base64"), ...c.extensions].map((l) => `${l}\n`).join("");
}

/** Parses checkpoint text strictly: decimal size without leading zeros, canonical base64 of 32 bytes. */
export function parseCheckpoint(text: string): Checkpoint {
  const bad = (why: string) => new NoteError("malformed", `malformed checkpoint: ${why}`);
  if (!text.endsWith("\n")) throw bad("text must end with a newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3) throw bad("fewer than three lines");
  const [origin, size, root, ...extensions] = lines;
  if (origin === "") throw bad("empty origin");
  if (!/^(0|[1-9][0-9]*)$/.test(size) || !Number.isSafeInteger(Number(size))) throw bad("the tree size is not a decimal number");
  const rootHash = decodeBase64Strict(root);
  if (!rootHash || rootHash.length !== HASH_SIZE) throw bad("the root hash is not base64 of 32 bytes");
  if (extensions.some((e) => e === "")) throw bad("empty extension line");
  return { origin, size: Number(size), rootHash, extensions };
}

/** A checkpoint signed by the log (the signer's name should be the origin). */
export function signCheckpoint(c: Checkpoint, log: NoteSigner): string {
  return signNote(formatCheckpoint(c), [log]);
}

/**
 * Opens a signed checkpoint: the log's signature must be there and valid; cosignatures by
 * `witnesses` must be valid when present and are returned; other signatures are ignored.
 * With `origin`, a checkpoint of any other log is refused.
 */
export function openCheckpoint(msg: string | Uint8Array, opts: { log: NoteVerifier; witnesses?: readonly NoteVerifier[]; origin?: string }): OpenedCheckpoint {
  const witnesses = opts.witnesses ?? [];
  const opened = openNote(msg, [opts.log, ...witnesses]);
  const isLog = (s: NoteSignature) => s.name === opts.log.name && s.keyId === opts.log.keyId;
  if (!opened.verified.some(isLog)) throw new NoteError("unverified", `checkpoint is not signed by the log key ${opts.log.name}`);
  const checkpoint = parseCheckpoint(opened.text);
  if (opts.origin !== undefined && checkpoint.origin !== opts.origin) {
    throw new NoteError("unverified", `checkpoint of ${JSON.stringify(checkpoint.origin)}, expected ${JSON.stringify(opts.origin)}`);
  }
  const cosignatures = opened.verified
    .filter((s) => !isLog(s))
    .map((s) => {
      const time = cosignatureTime(s);
      if (time === undefined) throw new NoteError("malformed", `signature of ${s.name} is not a cosignature`);
      return { ...s, time };
    });
  return { checkpoint, text: opened.text, cosignatures };
}
