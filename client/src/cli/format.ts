import type { tallyV1 } from "@voting/api";

// Characters that act on a terminal or reorder what it shows: C0 and C1 controls, DEL, bidi
// embeddings, overrides, isolates and marks, line and paragraph separators. Servers refuse
// them in new text; older rows, or a hostile server, may still send them.
const UNSAFE = /[\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/gu;
const UNSAFE_BUT_NEWLINE = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/gu;
const hex = (c: string, width: number) => c.codePointAt(0)!.toString(16).padStart(width, "0");

/**
 * Text for a terminal: every such character except our own line breaks becomes a visible
 * escape (`\x1b`, `\u202e`). Everything the CLI writes for people goes through here.
 */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE_BUT_NEWLINE, (c) => (c.codePointAt(0)! < 0x100 ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`));
}

/** JSON with every such character as a `\uXXXX` escape: the same value, safe to print. */
export function jsonSafe(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE, (c) => `\\u${hex(c, 4)}`);
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

const bar = (share: number, width: number) => "█".repeat(Math.round(Math.max(0, Math.min(1, share)) * width)).padEnd(width, "·");

/** People's view of a result: a bar per candidate, then rounds or the pairwise matrix. */
export function renderResult(r: tallyV1.ElectionResult, width = 30): string {
  const ballots = `${r.totalBallots} ballot${r.totalBallots === 1 ? "" : "s"}`;
  const status = r.final ? "final" : r.embargoed ? "results embargoed until the election closes" : "counting";
  const head = `${r.title} — ${r.method || "?"}${r.seats > 1 ? `, ${r.seats} seats` : ""} — ${ballots} counted (log seq ${r.countedThroughSeq}) — ${status}`;
  const alarms = r.integrityAlarms.map((a) => `INTEGRITY ALARM: ${a}`);
  if (r.embargoed) return [head, ...alarms].join("\n");
  if (r.candidates.length === 0) return [head, ...alarms, "no candidates yet"].join("\n");
  const nobody = r.winners.length === 0 && r.validBallots === 0 ? ["no one is elected: no ballot was counted"] : [];
  const names = new Map(r.candidates.map((c) => [c.candidateId, c.name]));
  const name = (id: number) => names.get(id) ?? `#${id}`;
  // Plurality and approval report their single count as a round too; only irv and stv have rounds to show.
  const counted = r.method === "irv" || r.method === "stv";
  const firstLabel = counted || r.pairwise ? "FIRST PREF" : "VOTES";
  const out = [
    head,
    ...alarms,
    table(
      [" ", "ID", "CANDIDATE", firstLabel, "SHARE", ""],
      r.candidates.map((c) => [c.elected ? "*" : " ", String(c.candidateId), c.name, c.votes, `${c.percentage.toFixed(2)}%`, bar(c.percentage / 100, width)]),
    ),
  ];
  if (counted && r.rounds.length > 0) {
    const ids = r.candidates.map((c) => c.candidateId);
    const rows = ids.map((id) => [name(id), ...r.rounds.map((round) => round.counts.find((c) => c.candidateId === id)?.votes ?? "–")]);
    rows.push(["exhausted", ...r.rounds.map((round) => round.exhausted)]);
    out.push("", table(["ROUND", ...r.rounds.map((round) => String(round.number))], rows));
    for (const round of r.rounds) {
      const acts = [...round.elected.map((id) => `${name(id)} elected`), ...round.eliminated.map((id) => `${name(id)} eliminated`)];
      if (acts.length > 0) out.push(`round ${round.number}: ${acts.join(", ")}${round.quota ? ` (quota ${round.quota})` : ""}`);
    }
  }
  if (r.pairwise) {
    const ids = r.pairwise.candidateIds;
    out.push(
      "",
      "pairwise: ballots ranking the row above the column",
      table(["", ...ids.map(name)], ids.map((id, i) => [name(id), ...r.pairwise!.matrix[i].values.map((v, j) => (i === j ? "–" : String(v)))])),
    );
    if (r.ranking.length > 0) out.push(`ranking: ${r.ranking.map((g) => g.candidateIds.map(name).join(" = ")).join(" > ")}`);
  }
  for (const t of r.ties) out.push(`tie${t.round ? ` in round ${t.round}` : ""} among ${t.among.map(name).join(", ")}: ${t.detail}`);
  out.push(...nobody);
  return out.join("\n");
}
