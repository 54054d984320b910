// The CLI's saved session and receipts, in the user's config directory, readable only
// by the user (0600).
import { chmod, mkdir, readFile, rm, writeFile, appendFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";

export interface SavedSession {
  userId: number;
  username: string;
  role: string;
  accessToken: string;
  accessExpiresAt: string;
  refreshToken: string;
  refreshExpiresAt: string;
}

export function configDir(env = process.env): string {
  if (env.VOTING_CONFIG_DIR) return env.VOTING_CONFIG_DIR;
  const base = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "voting");
}

async function writePrivate(path: string, data: string): Promise<void> {
  await mkdir(configDir(), { recursive: true, mode: 0o700 });
  await writeFile(path, data, { mode: 0o600 });
  await chmod(path, 0o600); // writeFile keeps the mode of a file that already existed
}

const sessionPath = () => join(configDir(), "session.json");

export async function loadSession(): Promise<SavedSession | undefined> {
  try {
    return JSON.parse(await readFile(sessionPath(), "utf8")) as SavedSession;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new Error(`cannot read the saved session ${sessionPath()}: ${(err as Error).message}`);
  }
}

export const saveSession = (s: SavedSession) => writePrivate(sessionPath(), `${JSON.stringify(s, null, 2)}\n`);

export const removeSession = () => rm(sessionPath(), { force: true });

/** Idempotency keys of ballots sent but not yet acknowledged, so a re-run retries the same ballot. */
const pendingPath = () => join(configDir(), "pending-ballots.json");

export async function pendingKey(id: string): Promise<string | undefined> {
  try {
    return (JSON.parse(await readFile(pendingPath(), "utf8")) as Record<string, string>)[id];
  } catch {
    return undefined;
  }
}

export async function setPendingKey(id: string, key: string | undefined): Promise<void> {
  let all: Record<string, string> = {};
  try {
    all = JSON.parse(await readFile(pendingPath(), "utf8")) as Record<string, string>;
  } catch {
    all = {};
  }
  if (key === undefined) delete all[id];
  else all[id] = key;
  await writePrivate(pendingPath(), JSON.stringify(all));
}

export async function saveReceipt(receipt: object): Promise<void> {
  await mkdir(configDir(), { recursive: true, mode: 0o700 });
  await appendFile(join(configDir(), "receipts.jsonl"), `${JSON.stringify(receipt)}\n`, { mode: 0o600 });
}
