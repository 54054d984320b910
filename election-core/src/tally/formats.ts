// Ballot files used by election officials and researchers: BLT (OpenSTV, droop, Electoral
// Reform Society) and PrefLib (.soc, .soi, .toc, .toi). Candidate ids are the files' 1-based
// numbers.
import { readFile } from "node:fs/promises";
import { parseBltBytes, quote, TallyFileError } from "./blt.js";
import type { BallotGroup, Candidate } from "./types.js";

export { TallyFileError };

export interface BallotFile {
  title: string;
  seats?: number;
  candidates: Candidate[];
  ballots: BallotGroup[];
  /** Ids of withdrawn candidates (BLT); leave them out of the candidates you tabulate. */
  withdrawn: number[];
}

export type PrefLibKind = "soc" | "soi" | "toc" | "toi";

function splitLines(text: string): string[] {
  return text.replace(/^\uFEFF/, "").split(/\r\n|\n|\r/);
}

const isWhole = (t: string) => /^\d+$/.test(t);

/** A BLT file as ballot groups (identical lines merged); readBlt streams a large file instead. */
export function parseBlt(text: string): BallotFile {
  const file = parseBltBytes(Buffer.from(text, "utf8"));
  return { ...file, ballots: [...file.ballots.groups()] };
}

export function parsePrefLib(text: string, kind: PrefLibKind): BallotFile {
  const lines = splitLines(text);
  const names = new Map<number, string>();
  let title = "";
  let fileName = "";
  let alternatives: number | undefined;
  let voters: { count: number; no: number } | undefined;
  const ballots: BallotGroup[] = [];
  const ties = kind === "toc" || kind === "toi";
  const complete = kind === "soc" || kind === "toc";
  let highest = 0;

  lines.forEach((raw, k) => {
    const no = k + 1;
    const line = raw.trim();
    if (line === "") return;
    if (line.startsWith("#")) {
      const m = /^#\s*([^:]+?)\s*:\s*(.*)$/.exec(line);
      if (!m) return; // a plain comment
      const key = m[1].toUpperCase();
      const value = m[2].trim();
      const alt = /^ALTERNATIVE NAME (\d+)$/.exec(key);
      if (alt) names.set(Number(alt[1]), value);
      else if (key === "TITLE") title = value;
      else if (key === "FILE NAME") fileName = value;
      else if (key === "NUMBER ALTERNATIVES") {
        if (!isWhole(value)) throw new TallyFileError(no, `expected a number of alternatives, got ${quote(value)}`);
        alternatives = Number(value);
      } else if (key === "NUMBER VOTERS") {
        if (!isWhole(value)) throw new TallyFileError(no, `expected a number of voters, got ${quote(value)}`);
        voters = { count: Number(value), no };
      }
      return;
    }
    const m = /^([^:]*):(.*)$/.exec(line);
    if (!m) throw new TallyFileError(no, `expected "count: ranking", got ${quote(line)}`);
    const countText = m[1].trim();
    if (!isWhole(countText) || !Number.isSafeInteger(Number(countText))) throw new TallyFileError(no, `expected a ballot count, got ${quote(countText)}`);
    const ranks = parseRanking(m[2], no, kind, ties);
    const seen = new Set<number>();
    for (const id of ranks.flat()) {
      if (alternatives !== undefined && id > alternatives) throw new TallyFileError(no, `alternative ${id} is beyond NUMBER ALTERNATIVES ${alternatives}`);
      if (seen.has(id)) throw new TallyFileError(no, `alternative ${id} appears twice`);
      seen.add(id);
      highest = Math.max(highest, id);
    }
    if (complete && alternatives !== undefined && seen.size !== alternatives) {
      throw new TallyFileError(no, `a .${kind} ballot must rank all ${alternatives} alternatives, this one ranks ${seen.size}`);
    }
    ballots.push({ ranks, count: Number(countText) });
  });

  const total = ballots.reduce((s, b) => s + b.count, 0);
  if (voters && voters.count !== total) throw new TallyFileError(voters.no, `NUMBER VOTERS is ${voters.count} but the ballots add up to ${total}`);
  const m = alternatives ?? Math.max(highest, ...names.keys(), 0);
  const candidates = Array.from({ length: m }, (_, k) => ({ id: k + 1, name: names.get(k + 1) ?? `Alternative ${k + 1}` }));
  return { title: title || fileName, candidates, ballots, withdrawn: [] };
}

/** "a,b,{c,d},e" -> [[a],[b],[c,d],[e]]. */
function parseRanking(text: string, no: number, kind: PrefLibKind, ties: boolean): number[][] {
  const ranks: number[][] = [];
  const body = text.trim();
  if (body === "") return ranks;
  const id = (t: string): number => {
    const s = t.trim();
    if (!isWhole(s) || Number(s) < 1) throw new TallyFileError(no, `expected an alternative number, got ${quote(s)}`);
    return Number(s);
  };
  let j = 0;
  while (j < body.length) {
    if (body[j] === "{") {
      const end = body.indexOf("}", j);
      if (end < 0) throw new TallyFileError(no, "a { is not closed");
      const inner = body.slice(j + 1, end);
      if (inner.includes("{")) throw new TallyFileError(no, "braces cannot nest");
      const group = inner.trim() === "" ? [] : inner.split(",").map(id);
      if (group.length > 1 && !ties) throw new TallyFileError(no, `a .${kind} file cannot rank alternatives equally (braces)`);
      if (group.length > 0) ranks.push(group);
      j = end + 1;
    } else {
      const end = body.indexOf(",", j);
      const token = body.slice(j, end < 0 ? body.length : end);
      if (token.includes("}")) throw new TallyFileError(no, "a } has no matching {");
      ranks.push([id(token)]);
      j = end < 0 ? body.length : end;
    }
    while (j < body.length && /\s/.test(body[j])) j++;
    if (j < body.length) {
      if (body[j] !== ",") throw new TallyFileError(no, `expected "," between ranks, got ${quote(body.slice(j))}`);
      j++;
      if (body.slice(j).trim() === "") throw new TallyFileError(no, "the ranking ends with a comma");
      while (j < body.length && /\s/.test(body[j])) j++;
    }
  }
  return ranks;
}

const PREFLIB_KINDS: readonly PrefLibKind[] = ["soc", "soi", "toc", "toi"];

/** Picks the parser by the file name's extension: .blt, .soc, .soi, .toc or .toi. */
export function parseBallotFile(text: string, fileName: string): BallotFile {
  const ext = /\.([a-z]+)$/i.exec(fileName)?.[1]?.toLowerCase() ?? "";
  if (ext === "blt") return parseBlt(text);
  if ((PREFLIB_KINDS as readonly string[]).includes(ext)) return parsePrefLib(text, ext as PrefLibKind);
  throw new TypeError(`${fileName}: unknown ballot file type; expected .blt, .soc, .soi, .toc or .toi`);
}

/** Reads a ballot file (UTF-8) and parses it by its extension. */
export async function readBallotFile(path: string): Promise<BallotFile> {
  return parseBallotFile(await readFile(path, "utf8"), path);
}
