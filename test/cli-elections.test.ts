// Officials and voters through the real `voting` binary: elections, rolls, ranked votes,
// explained results, and offline tabulation of real election files.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startSystem, uniqueName, type System } from "./harness.js";

const BIN = fileURLToPath(new URL("../client/bin/voting.js", import.meta.url));
const DATA = fileURLToPath(new URL("../election-core/test-data/", import.meta.url));

describe("the voting CLI for elections", () => {
  let sys: System;
  let home: string;
  const env = (who: string) =>
    ({ ...process.env, AUTH_ADDR: sys.addrs.auth, VOTE_ADDR: sys.addrs.vote, TALLY_ADDR: sys.addrs.tally, VOTING_CONFIG_DIR: join(home, who) }) as Record<string, string>;

  beforeAll(async () => {
    sys = await startSystem("sqlite");
    home = await mkdtemp(join(tmpdir(), "voting-cli-el-"));
  });
  afterAll(async () => {
    await sys?.stop();
    await rm(home, { recursive: true, force: true });
  });

  const voting = (who: string, ...args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, ...args], { env: env(who) });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
  const json = async (who: string, ...args: string[]) => {
    const r = await voting(who, ...args, "--json");
    expect(r.stderr, args.join(" ")).toBe("");
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout);
  };

  it("when an official runs a ranked election with a 100,000-name roll, then voters on it vote by name and the result explains itself", async () => {
    expect((await voting("admin", "login", "admin", "admin-password")).code).toBe(0);
    const e = await json("admin", "election", "create", "Club chair", "--method", "irv", "--candidate", "Ada", "--candidate", "Grace", "--results-while-open");
    expect(e).toMatchObject({ state: "draft", method: "irv", candidates: [{ id: 1, name: "Ada" }, { id: 2, name: "Grace" }] });
    expect(await json("admin", "election", "add-candidate", String(e.id), "Edsger")).toEqual({ id: 3, name: "Edsger" });

    const voters = await Promise.all([1, 2, 3].map(() => sys.user("voter")));
    const names = ["username", ...voters.map((v) => v.username), ...Array.from({ length: 100_000 - 3 }, (_, i) => `member-${i}`)];
    const csv = join(home, "roll.csv");
    await writeFile(csv, `${names.join("\n")}\n`);
    const started = Date.now();
    const roll = await json("admin", "election", "roll", String(e.id), csv);
    const seconds = (Date.now() - started) / 1000;
    expect(roll).toEqual({ electionId: e.id, added: 100_000, rollSize: 100_000 });
    console.log(`roll of 100,000 usernames imported in ${seconds.toFixed(1)} s`);

    expect(await json("admin", "election", "open", String(e.id))).toMatchObject({ state: "open", hasVoterRoll: true, voterRollSize: 100_000 });
    const outsider = await sys.user("voter");
    for (const [i, v] of [...voters, outsider].entries()) {
      await voting(`v${i}`, "login", v.username, v.password);
    }
    const ranks = ["Ada,Grace", "grace,Edsger", "Edsger,Ada"];
    for (let i = 0; i < 3; i++) expect((await voting(`v${i}`, "vote", "--election", String(e.id), "--rank", ranks[i])).code).toBe(0);
    const refused = await voting("v3", "vote", "--election", String(e.id), "--rank", "Ada");
    expect(refused).toMatchObject({ code: 1, stderr: `voting: NOT_ON_VOTER_ROLL: ${outsider.username} is not on the voter roll of election ${e.id} (PERMISSION_DENIED)\n` });
    const unknown = await voting("v0", "vote", "--election", String(e.id), "--rank", "Nobody");
    expect(unknown).toMatchObject({ code: 1, stderr: `voting: election ${e.id} has no candidate named "Nobody"\n` });

    let result;
    for (let i = 0; i < 100; i++) {
      result = await json("admin", "results", "--election", String(e.id));
      if (result.countedThroughSeq === 3) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(result.rounds.length).toBeGreaterThanOrEqual(2);
    expect(result.ties.length).toBeGreaterThanOrEqual(1); // 1-1-1 in round 1
    const table = await voting("admin", "results", "--election", String(e.id));
    expect(table.stdout).toMatch(/ROUND\s+1\s+2/);
    expect(table.stdout).toMatch(/tie in round 1 among/);

    expect(await json("admin", "election", "close", String(e.id))).toMatchObject({ state: "closed", ballotCount: 3 });
    const closed = await json("admin", "election", "list", "--state", "closed");
    expect(closed.map((x: { id: number }) => x.id)).toContain(e.id);
    const shown = await voting("admin", "election", "show", String(e.id));
    expect(shown.stdout).toMatch(/voter roll: 100000 usernames/);
  });

  it("when a voter approves several candidates, then the approval ballot is recorded", async () => {
    await voting("admin", "login", "admin", "admin-password");
    const e = await json("admin", "election", "create", uniqueName("Committee"), "--method", "approval", "--seats", "2", "--candidate", "A", "--candidate", "B", "--candidate", "C", "--results-while-open");
    await json("admin", "election", "open", String(e.id));
    const v = await sys.user("voter");
    await voting("approver", "login", v.username, v.password);
    expect((await voting("approver", "vote", "--election", String(e.id), "--approve", "C,a")).code).toBe(0);
    let result;
    for (let i = 0; i < 100; i++) {
      result = await json("approver", "results", "--election", String(e.id));
      if (result.countedThroughSeq === 1) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(Object.fromEntries(result.candidates.map((c: { name: string; votes: string }) => [c.name, c.votes]))).toEqual({ A: "1", C: "1", B: "0" });
  });

  it("when a voter who is not an admin creates an election, then exit 1 with PERMISSION_DENIED", async () => {
    const v = await sys.user("voter");
    await voting("plain", "login", v.username, v.password);
    const r = await voting("plain", "election", "create", "Coup", "--method", "plurality");
    expect(r).toMatchObject({ code: 1, stderr: "voting: ROLE_NOT_ALLOWED: role voter may not call CreateElection (PERMISSION_DENIED)\n" });
  });

  it("when the Burlington 2009 file is tabulated by the official rules, then every round matches the official count", async () => {
    const r = await json("anyone", "tabulate", join(DATA, "burlington-2009-mayor.toi"), "--method", "irv", "--batch-elimination", "--overvote", "exhaust-if-continuing");
    const round = (n: number) => Object.fromEntries(r.rounds[n - 1].counts.map((c: { candidateId: number; votes: string }) => [c.candidateId, c.votes]));
    expect(round(1)).toEqual({ 5: "2951", 1: "2585", 2: "2063", 4: "1306", 6: "36", 3: "35" });
    expect(round(2)).toEqual({ 5: "3294", 1: "2981", 2: "2554" });
    expect(round(3)).toEqual({ 5: "4061", 1: "4313" });
    expect(r.rounds.map((x: { exhausted: string }) => x.exhausted)).toEqual(["4", "151", "606"]);
    expect(r.winners).toEqual([1]);
  });

  it("when the Linn 2007 file is tabulated with Scottish STV, then the official result comes out to the last decimal", async () => {
    const r = await json("anyone", "tabulate", join(DATA, "Linn-2007.blt"), "--method", "stv", "--stv", "scottish");
    const last = Object.fromEntries(r.rounds.at(-1).counts.map((c: { candidateId: number; votes: string }) => [c.candidateId, c.votes]));
    expect(r.rounds[0].quota).toBe("1914.00000");
    expect(last).toMatchObject({ 2: "2008.75096", 3: "1914.00000", 6: "2174.90506", 7: "1914.00000" });
    expect(r.rounds.at(-1).exhausted).toBe("1555.32260");
    expect([...r.winners].sort()).toEqual([2, 3, 6, 7]);
  });

  it("when a BLT file has weights, comments and a withdrawn candidate, then the withdrawn one is left out and the weights are counted", async () => {
    const file = join(home, "weights.blt");
    await writeFile(file, ["# weights", "3 1", "-2", "5 2 1 0", "(x) 2 3 0", "1 2 3 0 # a comment", "0", '"A" "B # withdrawn"', '"C"', '"Weighted"'].join("\n"));
    const r = await json("anyone", "tabulate", file, "--method", "plurality");
    expect(Object.fromEntries(r.candidates.map((c: { name: string; votes: string }) => [c.name, c.votes]))).toEqual({ A: "5", C: "3" });
    expect(r.winners).toEqual([1]);
  });

  it("when a BLT file is malformed or missing, then exit 1 with a message naming the line or the file", async () => {
    const bad = join(home, "bad.blt");
    await writeFile(bad, "3 1\n1 1 2 0\n2 1 4 0\n0\n");
    const r = await voting("anyone", "tabulate", bad, "--method", "irv");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^voting: .*bad\.blt: line 3: expected a candidate number 1 to 3, got "4"/);
    const missing = await voting("anyone", "tabulate", join(home, "missing.blt"), "--method", "irv");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^voting: cannot read .*missing\.blt/);
  });

  it("when a ballot file has a syntax error, then exit 1 with a message naming the line", async () => {
    const bad = join(home, "bad.toi");
    await writeFile(bad, "# NUMBER ALTERNATIVES: 2\n# ALTERNATIVE NAME 1: A\n# ALTERNATIVE NAME 2: B\n3: 1,2\nfive: 2\n");
    const r = await voting("anyone", "tabulate", bad, "--method", "irv");
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^voting: .*bad\.toi: line 5: /);
  });
});
