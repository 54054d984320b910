import type { tallyV1 } from "@voting/api";

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

export function renderResult(r: tallyV1.ElectionResult, width = 30): string {
  const rows = r.candidates.map((c) => {
    const bar = "█".repeat(Math.round((c.percentage / 100) * width)).padEnd(width, "·");
    return [c.leading ? "*" : " ", String(c.candidateId), c.name, String(c.votes), `${c.percentage.toFixed(2)}%`, bar];
  });
  const head = `${r.title} — ${r.totalBallots} ballot${r.totalBallots === 1 ? "" : "s"} counted (log seq ${r.countedThroughSeq})`;
  if (rows.length === 0) return `${head}\nno candidates yet`;
  return `${head}\n${table([" ", "ID", "CANDIDATE", "VOTES", "SHARE", ""], rows)}`;
}
