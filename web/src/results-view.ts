// A result as HTML: bars and shares, the rounds of IRV/STV with transfers and exhausted
// ballots, the pairwise matrix and ranking of Schulze, ties, and the final signed statement.
// The page and every live update (SSE) render through here.
import type { tallyV1 } from "@voting/client";
import { html, type Html } from "./html.js";

const pct = (p: number) => `${p.toFixed(2)}%`;

export function resultHtml(r: tallyV1.ElectionResult): Html {
  const status = r.final ? "Final result" : r.embargoed ? "Embargoed" : "Counting";
  const names = new Map(r.candidates.map((c) => [c.candidateId, c.name]));
  const name = (id: number) => names.get(id) ?? `#${id}`;
  const head = html`<p class="status" data-final="${r.final}"><strong>${status}</strong> · ${r.method || "?"}${r.seats > 1 ? `, ${r.seats} seats` : ""} ·
<span data-total>${r.totalBallots}</span> ballot${r.totalBallots === 1 ? "" : "s"} counted (log position ${r.countedThroughSeq})</p>`;
  if (r.embargoed) return html`${head}<p>The results are embargoed until the election closes: nobody sees a count before then.</p>`;
  if (r.candidates.length === 0) return html`${head}<p>No candidates yet.</p>`;
  const counted = r.method === "irv" || r.method === "stv";
  const label = counted || r.pairwise ? "First preferences" : "Votes";
  const out: Html[] = [
    head,
    r.winners.length > 0 ? html`<p class="winners">Elected: <span data-winners>${r.winners.map(name).join(", ")}</span></p>` : r.validBallots === 0 ? html`<p>No one is elected: no ballot was counted.</p>` : html``,
    html`<table class="tally"><caption>${label} per candidate</caption><thead><tr><th scope="col">Candidate</th><th scope="col">${label}</th><th scope="col">Share</th><th scope="col"><span class="sr">Bar</span></th><th scope="col">Elected</th></tr></thead><tbody>
${r.candidates.map(
  (c) => html`<tr data-candidate="${c.candidateId}"><th scope="row">${c.name}</th><td data-votes>${c.votes}</td><td data-share>${pct(c.percentage)}</td>
<td><meter min="0" max="100" value="${c.percentage.toFixed(2)}" aria-label="${c.name}: ${pct(c.percentage)}"></meter></td><td data-elected="${c.elected}">${c.elected ? "elected" : ""}</td></tr>`,
)}</tbody></table>`,
  ];
  if (counted && r.rounds.length > 0) out.push(roundsHtml(r, name));
  if (r.pairwise) out.push(pairwiseHtml(r, name));
  if (r.ties.length > 0) {
    out.push(html`<h2>Ties and how they were broken</h2><ul>${r.ties.map((t) => html`<li>${t.round ? `Round ${t.round}: ` : ""}tie among ${t.among.map(name).join(", ")}; ${t.decides ? `deciding ${t.decides}` : ""}: ${name(t.chosen)} chosen by ${t.rule}. ${t.detail}</li>`)}</ul>`);
  }
  if (r.notes.length > 0) out.push(html`<ul class="notes">${r.notes.map((n) => html`<li>${n}</li>`)}</ul>`);
  if (r.final && r.statement) out.push(html`<h2>Signed statement</h2><pre class="statement" tabindex="0">${r.statement}</pre>`);
  return html`${out}`;
}

function roundsHtml(r: tallyV1.ElectionResult, name: (id: number) => string): Html {
  const ids = r.candidates.map((c) => c.candidateId);
  const cell = (round: tallyV1.Round, id: number) => round.counts.find((c) => c.candidateId === id)?.votes ?? "–";
  const acts = r.rounds.map((round) => {
    const done = [...round.elected.map((id) => `${name(id)} elected`), ...round.eliminated.map((id) => `${name(id)} eliminated`)];
    const moves = round.transfers.map(
      (t) => `${t.kind === 1 ? "surplus" : "ballots"} of ${name(t.fromCandidateId)} moved: ${t.to.map((x) => `${name(x.candidateId)} +${x.votes}`).join(", ") || "none"}${t.exhausted && t.exhausted !== "0" ? `, exhausted +${t.exhausted}` : ""}`,
    );
    return [...done, ...moves].length > 0 ? html`<li>Round ${round.number}: ${[...done, ...moves].join("; ")}${round.quota ? ` (quota ${round.quota})` : ""}</li>` : html``;
  });
  return html`<h2>Round by round</h2><div class="scroll" tabindex="0" role="region" aria-label="Rounds table"><table class="rounds"><caption>Votes per candidate in each round</caption>
<thead><tr><th scope="col">Candidate</th>${r.rounds.map((round) => html`<th scope="col">Round ${round.number}</th>`)}</tr></thead><tbody>
${ids.map((id) => html`<tr data-round-candidate="${id}"><th scope="row">${name(id)}</th>${r.rounds.map((round) => html`<td>${cell(round, id)}</td>`)}</tr>`)}
<tr data-exhausted><th scope="row">Exhausted ballots</th>${r.rounds.map((round) => html`<td>${round.exhausted}</td>`)}</tr></tbody></table></div>
<ul class="acts">${acts}</ul>`;
}

function pairwiseHtml(r: tallyV1.ElectionResult, name: (id: number) => string): Html {
  const p = r.pairwise!;
  return html`<h2>Pairwise comparisons</h2><div class="scroll" tabindex="0" role="region" aria-label="Pairwise matrix"><table class="pairwise"><caption>Ballots ranking the row's candidate above the column's</caption>
<thead><tr><td></td>${p.candidateIds.map((id) => html`<th scope="col">${name(id)}</th>`)}</tr></thead><tbody>
${p.candidateIds.map((id, i) => html`<tr><th scope="row">${name(id)}</th>${p.matrix[i].values.map((v, j) => html`<td>${i === j ? "–" : String(v)}</td>`)}</tr>`)}</tbody></table></div>
${r.ranking.length > 0 ? html`<h3>Ranking</h3><ol class="ranking">${r.ranking.map((g) => html`<li>${g.candidateIds.map(name).join(" = ")}</li>`)}</ol>` : ""}`;
}
