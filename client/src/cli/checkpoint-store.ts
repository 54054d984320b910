// The checkpoints this CLI has verified, per election log (origin), in the config directory:
// <dir>/checkpoints/<origin, URI-escaped>/log.vkey pins the log's key on first use, and
// checkpoints.jsonl keeps every signed checkpoint seen, so that a later rewrite of the past
// shows as a failed consistency proof from one of them. Files are the user's only (0600).
import { appendFile, chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { configDir } from "./session-store.js";

/** Where a saved checkpoint came from. */
export type CheckpointSource = "receipt" | "verify" | "witness" | "audit";

export interface SavedCheckpoint {
  size: number;
  /** Root hash, base64 as in the checkpoint text. */
  root: string;
  /** The whole signed note, as the log served it. */
  note: string;
  source: CheckpointSource;
  savedAt: string;
}

/** A file or directory name for an origin ("vote.example.org/election/7" has slashes); never "." or "..". */
export const originDirName = (origin: string) => encodeURIComponent(origin).replace(/^\./, "%2E");

export class CheckpointStore {
  constructor(private readonly base: string = join(configDir(), "checkpoints")) {}

  private dir(origin: string): string {
    return join(this.base, originDirName(origin));
  }

  private async ensureDir(origin: string): Promise<string> {
    const dir = this.dir(origin);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  /** The log key pinned for this origin, if any. */
  async pinnedKey(origin: string): Promise<string | undefined> {
    try {
      return (await readFile(join(this.dir(origin), "log.vkey"), "utf8")).trim() || undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  async pinKey(origin: string, vkey: string): Promise<void> {
    const path = join(await this.ensureDir(origin), "log.vkey");
    await writeFile(path, `${vkey}\n`, { mode: 0o600 });
    await chmod(path, 0o600);
  }

  /**
   * The log key to trust for `origin`: `override` (--log-key) wins and is pinned; else the
   * pinned one; else the one the server offers, pinned now (trust on first use). A server that
   * offers a different key than the pinned one is reported through `changed`.
   */
  async trustedKey(origin: string, offered: string | undefined, override?: string): Promise<{ vkey: string; firstUse: boolean; changed?: string }> {
    if (override) {
      if ((await this.pinnedKey(origin)) !== override) await this.pinKey(origin, override);
      return { vkey: override, firstUse: false, changed: offered && offered !== override ? offered : undefined };
    }
    const pinned = await this.pinnedKey(origin);
    if (pinned) return { vkey: pinned, firstUse: false, changed: offered && offered !== pinned ? offered : undefined };
    if (!offered) throw new Error(`no log key is known for ${origin}; give one with --log-key`);
    await this.pinKey(origin, offered);
    return { vkey: offered, firstUse: true };
  }

  /** Every checkpoint saved for this origin, oldest first. */
  async list(origin: string): Promise<SavedCheckpoint[]> {
    let text: string;
    try {
      text = await readFile(join(this.dir(origin), "checkpoints.jsonl"), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    return text
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as SavedCheckpoint);
  }

  /**
   * Keeps a verified checkpoint (the caller has checked the log's signature). An identical
   * note is kept once. With `supersedes`, the caller has also proved this one consistent with
   * every saved checkpoint, so older ones of the same source are implied by it and dropped:
   * a witness or a repeated verify does not grow the list, receipts stay.
   */
  async save(origin: string, cp: { size: number; root: string; note: string }, source: CheckpointSource, supersedes = false): Promise<void> {
    const all = await this.list(origin);
    const dir = await this.ensureDir(origin);
    const path = join(dir, "checkpoints.jsonl");
    const entry: SavedCheckpoint = { size: cp.size, root: cp.root, note: cp.note, source, savedAt: new Date().toISOString() };
    if (supersedes) {
      const kept = all.filter((s) => !(s.source === source && s.size <= cp.size) && !(s.note === cp.note));
      await writeFile(path, [...kept, entry].map((s) => `${JSON.stringify(s)}\n`).join(""), { mode: 0o600 });
      await chmod(path, 0o600);
      return;
    }
    if (all.some((s) => s.note === cp.note)) return;
    await appendFile(path, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
  }
}
