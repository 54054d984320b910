// What the `voting` binary writes: everything, to a pipe as to a file, and never a raw
// control character that came from a server.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../client/bin/voting.js", import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a shell command line and collects what it writes. */
function sh(command: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise<Run>((resolve) => {
    const child = spawn("sh", ["-c", command], { env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** A BLT file: `n` candidates, every ballot ranking all of them in a rotated order. */
function bigBlt(n: number, ballots: number): string {
  const lines = [`${n} 1`];
  for (let b = 0; b < ballots; b++) {
    const ranks = Array.from({ length: n }, (_, i) => ((i + b * 7) % n) + 1);
    lines.push(`${1 + (b % 5)} ${ranks.join(" ")} 0`);
  }
  lines.push("0");
  for (let i = 1; i <= n; i++) lines.push(`"Candidate number ${i}"`);
  lines.push(`"Two hundred candidates"`);
  return `${lines.join("\n")}\n`;
}

describe("the voting CLI's output", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "voting-cli-out-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("when a result over 1 MB is piped into another program, then all of it arrives and parses", async () => {
    const file = join(dir, "big.blt");
    await writeFile(file, bigBlt(200, 400));
    const r = await sh(`"${process.execPath}" "${BIN}" tabulate "${file}" --method irv --json | cat`);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(1_000_000);
    const result = JSON.parse(r.stdout);
    expect(result.rounds).toHaveLength(199);
    expect(result.winners).toHaveLength(1);
  });
});
