// The ballot form for each method, and the ballot it posts: one choice (radio buttons), a set
// (check boxes), or a ranking (a numbered select per candidate: keyboard-usable, no dragging).
import type { voteV1 } from "@voting/client";
import { html, type Html } from "./html.js";
import { FormError } from "./errors.js";

export type BallotKind = "one" | "set" | "ranking";

export function ballotKind(method: string): BallotKind {
  if (method === "plurality") return "one";
  if (method === "approval") return "set";
  return "ranking";
}

export function ballotFields(kind: BallotKind, candidates: voteV1.Candidate[]): Html {
  if (kind === "one") {
    return html`<fieldset><legend>Choose one candidate</legend>${candidates.map(
      (c) => html`<div class="choice"><input type="radio" name="choice" id="c${c.id}" value="${c.id}" required><label for="c${c.id}">${c.name}</label></div>`,
    )}</fieldset>`;
  }
  if (kind === "set") {
    return html`<fieldset><legend>Tick every candidate you approve of</legend>${candidates.map(
      (c) => html`<div class="choice"><input type="checkbox" name="choice" id="c${c.id}" value="${c.id}"><label for="c${c.id}">${c.name}</label></div>`,
    )}</fieldset>`;
  }
  const options = (id: number) => [
    html`<option value="">not ranked</option>`,
    ...candidates.map((_, i) => html`<option value="${i + 1}">${ordinal(i + 1)} choice</option>`),
  ];
  return html`<fieldset><legend>Rank the candidates: 1 is your first choice. Leave out any you do not want to rank; each number once.</legend>${candidates.map(
    (c) => html`<div class="choice rank"><label for="r${c.id}">${c.name}</label><select name="rank_${c.id}" id="r${c.id}" data-rank>${options(c.id)}</select></div>`,
  )}</fieldset>`;
}

const ordinal = (n: number) => `${n}${n % 100 >= 11 && n % 100 <= 13 ? "th" : ["th", "st", "nd", "rd"][n % 10] ?? "th"}`;

/** The candidate ids in ballot order, from the posted form; FormError on a malformed ranking. */
export function ballotChoices(kind: BallotKind, body: Record<string, unknown>, candidates: voteV1.Candidate[]): number[] {
  const ids = new Set(candidates.map((c) => c.id));
  const asId = (v: unknown) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || !ids.has(n)) throw new FormError("The ballot names a candidate this election does not have.");
    return n;
  };
  if (kind !== "ranking") {
    const raw = body.choice;
    const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    if (list.length === 0) throw new FormError(kind === "one" ? "Choose a candidate." : "Tick at least one candidate.");
    if (kind === "one" && list.length > 1) throw new FormError("Choose only one candidate.");
    return [...new Set(list.map(asId))];
  }
  const ranked: { id: number; rank: number }[] = [];
  for (const c of candidates) {
    const v = body[`rank_${c.id}`];
    if (v === undefined || v === "") continue;
    const rank = Number(v);
    if (!Number.isInteger(rank) || rank < 1 || rank > candidates.length) throw new FormError(`The rank given to ${c.name} is not a number from 1 to ${candidates.length}.`);
    ranked.push({ id: c.id, rank });
  }
  if (ranked.length === 0) throw new FormError("Rank at least one candidate.");
  ranked.sort((a, b) => a.rank - b.rank);
  for (let i = 1; i < ranked.length; i++) {
    if (ranked[i].rank === ranked[i - 1].rank) throw new FormError(`Two candidates have rank ${ranked[i].rank}; give each rank once.`);
  }
  return ranked.map((r) => r.id);
}
