// Deterministic tie-breaking that anyone can reproduce: earlier round counts first (most
// recent round first, "backwards"), then a lot drawn from a public seed.
import { createHash } from "node:crypto";
import { TallyInputError } from "./ballots.js";
import type { TieBreak } from "./types.js";

export function parseSeed(seedHex: string | undefined): Buffer {
  const s = seedHex ?? "";
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(s)) throw new TallyInputError("tieBreakSeed must be hex digits (an even number of them)");
  return Buffer.from(s, "hex");
}

/**
 * The lot: candidates ordered by SHA-256(seed bytes || ":" || id as decimal ASCII), lowest
 * hash first. The seed is the hex-decoded tieBreakSeed (no bytes when there is none). The
 * first candidate in this order is the one a lot chooses.
 */
export function tieBreakOrder(seedHex: string | undefined, ids: readonly number[]): { id: number; hash: string }[] {
  const seed = parseSeed(seedHex);
  return ids
    .map((id) => ({ id, hash: createHash("sha256").update(seed).update(`:${id}`, "ascii").digest("hex") }))
    .sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : a.id - b.id));
}

/** What the tie-breaker needs to know about the count it works for. */
export interface TieContext {
  seedHex: string;
  ids: readonly number[];
  names: readonly string[];
  ties: TieBreak[];
}

export interface TieQuestion<V> {
  /** Candidate indices tied now (two or more). */
  tied: number[];
  /** Counts of earlier rounds, oldest first: history[r][candidate]. */
  history: readonly (readonly (V | undefined)[])[];
  compare: (a: V, b: V) => number;
  format: (v: V) => string;
  /** "lowest" picks whom to eliminate; "highest" whom to elect or transfer first. */
  pick: "lowest" | "highest";
  decides: TieBreak["decides"];
  /** The round the tie happened in (1-based), if the method has rounds. */
  round?: number;
  /** The tied value now, for the record. */
  now: string;
  /** What the choice does, in words, e.g. "is excluded". */
  outcome: string;
}

const label = (ctx: TieContext, c: number) => `${ctx.names[c]} (${ctx.ids[c]})`;

/** Breaks a tie, records it in ctx.ties and returns the chosen candidate index. */
export function breakTie<V>(ctx: TieContext, q: TieQuestion<V>): number {
  let left = [...q.tied].sort((a, b) => a - b);
  const among = left.map((c) => ctx.ids[c]);
  const steps: string[] = [];
  for (let r = q.history.length - 1; r >= 0 && left.length > 1; r--) {
    const row = q.history[r];
    if (left.some((c) => row[c] === undefined)) continue;
    let best = row[left[0]] as V;
    for (const c of left) {
      const d = q.compare(row[c] as V, best);
      if (q.pick === "lowest" ? d < 0 : d > 0) best = row[c] as V;
    }
    const keep = left.filter((c) => q.compare(row[c] as V, best) === 0);
    if (keep.length === left.length) continue;
    steps.push(`round ${r + 1} had ${left.map((c) => `${label(ctx, c)} ${q.format(row[c] as V)}`).join(", ")}`);
    left = keep;
  }
  const names = among.length === 2 ? "two candidates" : `${among.length} candidates`;
  const head = `${names} tied at ${q.now}: ${q.tied.map((c) => label(ctx, c)).sort().join(", ")}`;
  if (left.length === 1) {
    const chosen = left[0];
    ctx.ties.push({
      round: q.round,
      among,
      chosen: ctx.ids[chosen],
      decides: q.decides,
      rule: "previous-rounds",
      detail: `${head}. Earlier rounds, most recent first: ${steps.join("; ")}. ${label(ctx, chosen)} had the ${q.pick} count and ${q.outcome}.`,
    });
    return chosen;
  }
  const chosen = drawLot(ctx, left);
  const narrowed = steps.length > 0 ? ` Earlier rounds left ${left.map((c) => label(ctx, c)).join(", ")} (${steps.join("; ")}).` : " They were equal in every earlier round.";
  ctx.ties.push({
    round: q.round,
    among,
    chosen: ctx.ids[chosen.index],
    decides: q.decides,
    rule: "lot",
    detail: `${head}.${q.history.length > 0 ? narrowed : ""} ${chosen.text} ${label(ctx, chosen.index)} ${q.outcome}.`,
  });
  return chosen.index;
}

/**
 * Chooses `m` of the tied candidates by lot alone (methods without earlier rounds), recording
 * one TieBreak per choice. Returns the chosen indices in lot order.
 */
export function chooseByLot(ctx: TieContext, tied: number[], m: number, info: { decides: TieBreak["decides"]; round?: number; now: string; outcome: string }): number[] {
  if (m >= tied.length) return [...tied];
  const chosen: number[] = [];
  let left = [...tied].sort((a, b) => a - b);
  for (let k = 0; k < m && left.length > 1; k++) {
    const lot = drawLot(ctx, left);
    ctx.ties.push({
      round: info.round,
      among: left.map((c) => ctx.ids[c]),
      chosen: ctx.ids[lot.index],
      decides: info.decides,
      rule: "lot",
      detail: `${left.length} candidates tied at ${info.now}: ${left.map((c) => label(ctx, c)).join(", ")}. ${lot.text} ${label(ctx, lot.index)} ${info.outcome}.`,
    });
    chosen.push(lot.index);
    left = left.filter((c) => c !== lot.index);
  }
  return chosen.length < m ? [...chosen, ...left].slice(0, m) : chosen;
}

function drawLot(ctx: TieContext, candidates: number[]): { index: number; text: string } {
  const byId = new Map(candidates.map((c) => [ctx.ids[c], c]));
  const order = tieBreakOrder(ctx.seedHex, [...byId.keys()]);
  const seed = ctx.seedHex === "" ? "the empty seed" : `seed ${ctx.seedHex.toLowerCase()}`;
  const list = order.map((o) => `${o.id} → ${o.hash}`).join(", ");
  return {
    index: byId.get(order[0].id) as number,
    text: `Lot with ${seed}: SHA-256(seed || ":" || id) ascending gives ${list}; the first,`,
  };
}
