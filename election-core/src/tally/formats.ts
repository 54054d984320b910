// Ballot files used by election officials and researchers: BLT (OpenSTV, droop, Electoral
// Reform Society) and PrefLib (.soc, .soi, .toc, .toi). Candidate ids are the files' 1-based
// numbers.
import { readFile } from "node:fs/promises";
import type { BallotGroup, Candidate } from "./types.js";

export interface BallotFile {
  title: string;
  seats?: number;
  candidates: Candidate[];
  ballots: BallotGroup[];
  /** Ids of withdrawn candidates (BLT); leave them out of the candidates you tabulate. */
  withdrawn: number[];
}

export type PrefLibKind = "soc" | "soi" | "toc" | "toi";

/** A ballot file that does not parse; the message starts with the line at fault. */
export class TallyFileError extends Error {
  override name = "TallyFileError";
  constructor(
    readonly line: number,
    problem: string,
  ) {
    super(`line ${line}: ${problem}`);
  }
}

const quote = (s: string) => JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);

function splitLines(text: string): string[] {
  return text.replace(/^\uFEFF/, "").split(/\r\n|\n|\r/);
}

/** The line without a `#` comment (a `#` inside a quoted name is kept). */
function stripComment(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '"') quoted = !quoted;
    else if (line[i] === "#" && !quoted) return line.slice(0, i);
  }
  return line;
}

const isWhole = (t: string) => /^\d+$/.test(t);

export function parseBlt(text: string): BallotFile {
  const lines = splitLines(text);
  let i = 0;
  const nextLine = (): { no: number; tokens: string[]; raw: string } | undefined => {
    while (i < lines.length) {
      const raw = stripComment(lines[i++]).trim();
      if (raw !== "") return { no: i, tokens: raw.split(/\s+/), raw };
    }
    return undefined;
  };

  const head = nextLine();
  if (!head) throw new TallyFileError(lines.length, "the file is empty; expected a first line \"candidates seats\"");
  if (head.tokens.length !== 2 || !head.tokens.every(isWhole)) throw new TallyFileError(head.no, `expected "candidates seats", got ${quote(head.raw)}`);
  const n = Number(head.tokens[0]);
  const seats = Number(head.tokens[1]);
  if (n < 1) throw new TallyFileError(head.no, "the number of candidates must be at least 1");
  if (seats < 1) throw new TallyFileError(head.no, "the number of seats must be at least 1");

  const candidateId = (t: string, no: number): number => {
    if (!isWhole(t) || Number(t) < 1 || Number(t) > n) throw new TallyFileError(no, `expected a candidate number 1 to ${n}, got ${quote(t)}`);
    return Number(t);
  };

  const withdrawn: number[] = [];
  const ballots: BallotGroup[] = [];
  let ended = false;
  for (let line = nextLine(); line; line = nextLine()) {
    const t = line.tokens;
    if (t.length === 1 && t[0] === "0") {
      ended = true;
      break;
    }
    if (t[0].startsWith("-")) {
      if (ballots.length > 0) throw new TallyFileError(line.no, "withdrawn candidates (negative numbers) must come before the ballots");
      for (const w of t) {
        if (!/^-\d+$/.test(w)) throw new TallyFileError(line.no, `expected a withdrawn candidate as a negative number, got ${quote(w)}`);
        withdrawn.push(candidateId(w.slice(1), line.no));
      }
      continue;
    }
    let k = 0;
    if (/^\(.*\)$/.test(t[0])) k++; // an optional ballot id, "(id)"
    if (k >= t.length || !isWhole(t[k])) throw new TallyFileError(line.no, `expected a ballot weight, got ${quote(t[k] ?? "")}`);
    const count = Number(t[k++]);
    if (!Number.isSafeInteger(count)) throw new TallyFileError(line.no, `ballot weight ${t[k - 1]} is too large`);
    const ranks: number[][] = [];
    let closed = false;
    for (; k < t.length; k++) {
      if (t[k] === "0") {
        closed = true;
        k++;
        break;
      }
      if (t[k] === "-") continue; // a skipped preference
      ranks.push(t[k].split("=").map((p) => candidateId(p, line.no)));
    }
    if (!closed) throw new TallyFileError(line.no, "expected 0 at the end of the ballot");
    if (k < t.length) throw new TallyFileError(line.no, `unexpected ${quote(t[k])} after the closing 0`);
    ballots.push({ ranks, count });
  }
  if (!ended) throw new TallyFileError(lines.length, 'expected a line "0" after the ballots');

  // Quoted names, then the title, possibly spread over lines.
  const strings: { no: number; value: string }[] = [];
  for (; i < lines.length; i++) {
    const line = lines[i];
    let j = 0;
    while (j < line.length) {
      const ch = line[j];
      if (ch === "#") break;
      if (/\s/.test(ch)) {
        j++;
        continue;
      }
      if (ch !== '"') {
        const word = line.slice(j).split(/\s/)[0];
        throw new TallyFileError(i + 1, `expected a quoted ${strings.length < n ? "candidate name" : "title"}, got ${quote(word)}`);
      }
      const end = line.indexOf('"', j + 1);
      if (end < 0) throw new TallyFileError(i + 1, "a quoted string is not closed on its line");
      strings.push({ no: i + 1, value: line.slice(j + 1, end) });
      j = end + 1;
    }
  }
  if (strings.length < n) throw new TallyFileError(lines.length, `expected ${n} quoted candidate names, found ${strings.length}`);
  if (strings.length > n + 1) throw new TallyFileError(strings[n + 1].no, `unexpected ${quote(strings[n + 1].value)} after the title`);

  return {
    title: strings[n]?.value ?? "",
    seats,
    candidates: strings.slice(0, n).map((s, k) => ({ id: k + 1, name: s.value })),
    ballots,
    withdrawn,
  };
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
