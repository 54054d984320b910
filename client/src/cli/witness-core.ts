// A witness (C2SP tlog-witness, simplified to a follower): it cosigns a log's checkpoint only
// after proving it consistent with the last one it cosigned, and keeps what it signed in a
// directory that anyone may copy or that `voting witness serve` publishes:
//   <dir>/<origin, URI-escaped>/checkpoint       the latest cosigned checkpoint (signed note)
//   <dir>/<origin>/cosigned/<size>.note            every checkpoint it cosigned
//   <dir>/<origin>/log.vkey                        the log key, pinned on first use
//   <dir>/<origin>/evidence/<time>/{kept,served}.note, reason.txt
//                                                 two checkpoints that cannot both be true
import { chmod, mkdir, readFile, readdir, rename, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import {
  addSignatures,
  cosignatureSigner,
  decodeBase64Strict,
  ed25519PrivateKey,
  formatSignerKey,
  formatVerifierKey,
  generateEd25519Seed,
  isValidKeyName,
  NoteError,
  rawPublicKey,
  SIG_COSIGNATURE_V1,
  SIG_ED25519,
  type NoteSigner,
} from "@voting/election-core";
import { originDirName } from "./checkpoint-store.js";
import { openLogCheckpoint, proveConsistent, rootText, SplitViewError, type LogSource, type VerifiedCheckpoint } from "./tlog-check.js";

export interface WitnessKey {
  name: string;
  signer: NoteSigner;
  /** The cosigner's verifier key, "<name>+<key ID>+<base64(0x04 || public key)>". */
  vkey: string;
}

function witnessKeyFrom(name: string, seed: Buffer, now?: () => number): WitnessKey {
  const publicKey = rawPublicKey(ed25519PrivateKey(seed));
  return { name, signer: cosignatureSigner(name, seed, now), vkey: formatVerifierKey(name, SIG_COSIGNATURE_V1, publicKey) };
}

/** Parses a key file: Go's "PRIVATE+KEY+<name>+<key ID>+<base64(0x01 || seed)>" form. */
export function parseWitnessKey(text: string, now?: () => number): WitnessKey {
  const m = /^PRIVATE\+KEY\+([^+]+)\+([0-9a-f]{8})\+(\S+)$/.exec(text.trim());
  const key = m ? decodeBase64Strict(m[3]) : undefined;
  if (!m || !key || key.length !== 33 || key[0] !== SIG_ED25519) throw new NoteError("bad-key", "the witness key file is not a PRIVATE+KEY+<name>+<id>+<key> line");
  if (formatSignerKey(m[1], key.subarray(1)) !== text.trim()) throw new NoteError("bad-key", "the witness key file's key ID does not match its name and key");
  return witnessKeyFrom(m[1], key.subarray(1), now);
}

/** Reads the witness key, or makes one (mode 0600) when the file does not exist. */
export async function loadOrCreateWitnessKey(file: string, name?: string, now?: () => number): Promise<WitnessKey & { created: boolean }> {
  try {
    const key = parseWitnessKey(await readFile(file, "utf8"), now);
    if (name && name !== key.name) throw new NoteError("bad-key", `the key in ${file} is named ${key.name}, not ${name}`);
    return { ...key, created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const keyName = name ?? `witness-${hostname().replace(/[\s+]/g, "-") || "local"}`;
  if (!isValidKeyName(keyName)) throw new NoteError("bad-key", `a witness name has no spaces or "+": ${JSON.stringify(keyName)}`);
  const { seed } = generateEd25519Seed();
  await writeFile(file, `${formatSignerKey(keyName, seed)}\n`, { mode: 0o600, flag: "wx" });
  await chmod(file, 0o600);
  return { ...witnessKeyFrom(keyName, seed, now), created: true };
}

export type WitnessOutcome =
  | { status: "cosigned"; size: number; note: string; from?: number }
  | { status: "unchanged"; size: number }
  | { status: "older"; size: number; cosignedSize: number };

/** The witness's files for one directory. */
export class WitnessDir {
  constructor(readonly root: string) {}

  private dir(origin: string) {
    return join(this.root, originDirName(origin));
  }

  async latest(origin: string): Promise<string | undefined> {
    return readIfExists(join(this.dir(origin), "checkpoint"));
  }

  async pinnedLogKey(origin: string): Promise<string | undefined> {
    return (await readIfExists(join(this.dir(origin), "log.vkey")))?.trim() || undefined;
  }

  async pinLogKey(origin: string, vkey: string): Promise<void> {
    await mkdir(this.dir(origin), { recursive: true });
    await writeFile(join(this.dir(origin), "log.vkey"), `${vkey}\n`);
  }

  async saveCosigned(origin: string, size: number, note: string): Promise<void> {
    await mkdir(join(this.dir(origin), "cosigned"), { recursive: true });
    await writeFile(join(this.dir(origin), "cosigned", `${size}.note`), note);
    // Written last: a reader of "checkpoint" only ever sees a note whose history is on disk.
    await writeFile(join(this.dir(origin), "checkpoint.tmp"), note);
    await rename(join(this.dir(origin), "checkpoint.tmp"), join(this.dir(origin), "checkpoint"));
  }

  /** Saves both notes of a split view; returns the evidence directory. */
  async saveEvidence(origin: string, e: SplitViewError): Promise<string> {
    const dir = join(this.dir(origin), "evidence", new Date().toISOString().replace(/[:.]/g, "-"));
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "kept.note"), e.older);
    await writeFile(join(dir, "served.note"), e.newer);
    await writeFile(join(dir, "reason.txt"), `${e.reason}\n`);
    return dir;
  }

  /** Origins (URI-escaped directory names) this witness keeps checkpoints of. */
  async origins(): Promise<string[]> {
    try {
      const names = await readdir(this.root, { withFileTypes: true });
      return names.filter((d) => d.isDirectory()).map((d) => d.name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
  }

  /** Every cosigned checkpoint kept for an escaped origin directory name (for audits). */
  async cosignedNotes(dirName: string): Promise<string[]> {
    const dir = join(this.root, dirName, "cosigned");
    let files: string[];
    try {
      files = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    return Promise.all(files.filter((f) => /^\d+\.note$/.test(f)).map((f) => readFile(join(dir, f), "utf8")));
  }
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/**
 * One round of witnessing: verify the log's latest checkpoint (log key `logKey`), prove it
 * consistent with the last one this witness cosigned, cosign and keep it. A split view is
 * saved as evidence and thrown; nothing is cosigned then.
 */
export async function witnessOnce(opts: { source: LogSource; dir: WitnessDir; key: WitnessKey; logKey: string; electionId: number; served?: string }): Promise<WitnessOutcome> {
  const served = opts.served ?? (await opts.source.checkpoint()).note;
  const latest: VerifiedCheckpoint = openLogCheckpoint(served, opts.logKey, opts.electionId);
  const origin = latest.checkpoint.origin;
  const keptNote = await opts.dir.latest(origin);
  let from: number | undefined;
  if (keptNote !== undefined) {
    const kept = openLogCheckpoint(keptNote, opts.logKey, opts.electionId);
    try {
      await proveConsistent(opts.source, { size: kept.checkpoint.size, root: rootText(kept.checkpoint), note: keptNote }, latest);
    } catch (err) {
      if (err instanceof SplitViewError) await opts.dir.saveEvidence(origin, err);
      throw err;
    }
    if (latest.checkpoint.size === kept.checkpoint.size) return { status: "unchanged", size: latest.checkpoint.size };
    // A lagging server's older checkpoint is consistent but not news: keep the larger one.
    if (latest.checkpoint.size < kept.checkpoint.size) return { status: "older", size: latest.checkpoint.size, cosignedSize: kept.checkpoint.size };
    from = kept.checkpoint.size;
  }
  const cosigned = addSignatures(served, [opts.key.signer]);
  await opts.dir.saveCosigned(origin, latest.checkpoint.size, cosigned);
  return { status: "cosigned", size: latest.checkpoint.size, note: cosigned, from };
}
