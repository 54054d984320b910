// What the `voting` binary writes: everything, to a pipe as to a file, and never a raw
// control character that came from a server.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { voteV1 } from "@voting/client";
import { eventually, startSystem, uniqueName, type System } from "./harness.js";

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

describe("the voting CLI against servers", () => {
  let sys: System;
  let home: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    sys = await startSystem("sqlite");
    home = await mkdtemp(join(tmpdir(), "voting-cli-srv-"));
    env = { AUTH_ADDR: sys.addrs.auth, VOTE_ADDR: sys.addrs.vote, TALLY_ADDR: sys.addrs.tally, VOTING_CONFIG_DIR: join(home, "config") };
    expect((await voting("login", "admin", "admin-password")).code).toBe(0);
  });
  afterAll(async () => {
    await sys?.stop();
    await rm(home, { recursive: true, force: true });
  });

  const voting = (...args: string[]) => sh([process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" "), env);
  const json = async (...args: string[]) => {
    const r = await voting(...args, "--json");
    expect(r.stderr, args.join(" ")).toBe("");
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout);
  };
  const newElection = async (over: Partial<voteV1.CreateElectionRequest> = {}) => {
    const admin = sys.client(await sys.adminToken());
    const { election } = await admin.elections.createElection({ title: uniqueName("Board"), method: voteV1.BallotMethod.BALLOT_METHOD_PLURALITY, candidates: ["Ada", "Grace"], resultsWhileOpen: true, ...over });
    return { admin, election: election! };
  };

  it("when a roll CSV is empty or holds only its header, then the CLI reports the roll's real size and changes nothing", async () => {
    const { election } = await newElection();
    const full = join(home, "roll.csv");
    await writeFile(full, "username\nann\nbob\ncid\n");
    expect(await json("election", "roll", String(election.id), full)).toEqual({ electionId: election.id, added: 3, rollSize: 3 });
    for (const [name, text] of [["empty.csv", ""], ["header.csv", "username\n"], ["comments.csv", "# nobody yet\n\n"]]) {
      const file = join(home, name);
      await writeFile(file, text);
      expect(await json("election", "roll", String(election.id), file)).toEqual({ electionId: election.id, added: 0, rollSize: 3 });
    }
    // An empty roll file does not switch a roll on for an election that had none.
    const { election: open } = await newElection();
    expect(await json("election", "roll", String(open.id), join(home, "empty.csv"))).toEqual({ electionId: open.id, added: 0, rollSize: 0 });
    expect((await sys.client().elections.getElection({ electionId: open.id })).election!.hasVoterRoll).toBe(false);
  });

  it("when audit is run without --election, then it audits the general election as results does", async () => {
    const voter = await sys.user("voter");
    const cand = await sys.user("candidate");
    await sys.client(voter.token).votes.castVote({ ballot: { choices: [cand.id] } });
    await eventually(async () => ((await sys.client().tally.getResults({})).result!.countedThroughSeq >= 1 ? true : undefined));
    const report = await json("audit");
    expect(report).toMatchObject({ electionId: 1, ok: true, ballots: 1 });
    expect((await json("results")).electionId).toBe(1);
  });

  it("when an election closes with no ballot, then no winner is named by the server or the CLI", async () => {
    for (const method of [voteV1.BallotMethod.BALLOT_METHOD_PLURALITY, voteV1.BallotMethod.BALLOT_METHOD_IRV, voteV1.BallotMethod.BALLOT_METHOD_SCHULZE]) {
      const { admin, election } = await newElection({ method, candidates: ["Ada", "Grace", "Edsger"] });
      await admin.elections.openElection({ electionId: election.id });
      await admin.elections.closeElection({ electionId: election.id });
      const result = await eventually(async () => {
        const r = (await sys.client().tally.getResults({ electionId: election.id })).result!;
        return r.final ? r : undefined;
      });
      expect(result.winners).toEqual([]);
      expect(result.candidates.filter((c) => c.elected)).toEqual([]);
      expect(result.ties).toEqual([]);
      const shown = await json("results", "--election", String(election.id));
      expect(shown.winners).toEqual([]);
      const text = await voting("results", "--election", String(election.id));
      expect(text.stdout).not.toMatch(/^\*/m);
      expect(text.stdout).toMatch(/no one is elected/);
    }
  });

  it("when a stored title or name holds control or bidi characters, then the CLI shows them escaped, never raw", async () => {
    const { election } = await newElection();
    const title = "Evil\u001b[2J\u001b]0;pwned\u0007 \u202eeltit\u202c \u0085\u009b31m\u007f end";
    const name = "Ada\r\u001b[1A\u2066Grace\u2069";
    // Rows written before the servers refused such text.
    await sys.db.kysely.updateTable("elections").set({ title }).where("id", "=", election.id).execute();
    await sys.db.kysely.updateTable("candidates").set({ name }).where("election_id", "=", election.id).where("name", "=", "Ada").execute();
    await sys.client(await sys.adminToken()).elections.openElection({ electionId: election.id });
    const raw = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
    for (const args of [["election", "show", String(election.id)], ["election", "list"], ["results", "--election", String(election.id)]]) {
      const human = await voting(...args);
      expect(human.code, `${args.join(" ")}: ${human.stderr}`).toBe(0);
      expect(human.stdout, args.join(" ")).not.toMatch(raw);
      const json = await voting(...args, "--json");
      expect(json.stdout, args.join(" ")).not.toMatch(raw);
      expect(json.stdout).toContain("\\u001b");
    }
    const shown = await voting("election", "show", String(election.id));
    expect(shown.stdout).toContain("Evil\\x1b[2J\\x1b]0;pwned\\x07 \\u202eeltit\\u202c \\x85\\x9b31m\\x7f end");
    expect(shown.stdout).toContain("Ada\\x0d\\x1b[1A\\u2066Grace\\u2069");
    // JSON keeps the stored value exactly, as escapes.
    expect(JSON.parse((await voting("election", "show", String(election.id), "--json")).stdout)).toMatchObject({ title, candidates: [{ name }, { name: "Grace" }] });
  });
});
