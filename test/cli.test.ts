// The whole flow once through the real `voting` binary, as a person would run it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startSystem, uniqueName, type System } from "./harness.js";

const BIN = fileURLToPath(new URL("../client/bin/voting.js", import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe("the voting CLI", () => {
  let sys: System;
  let home: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    sys = await startSystem("sqlite");
    home = await mkdtemp(join(tmpdir(), "voting-cli-"));
    env = { ...process.env, AUTH_ADDR: sys.addrs.auth, VOTE_ADDR: sys.addrs.vote, TALLY_ADDR: sys.addrs.tally, VOTING_CONFIG_DIR: join(home, "config") } as Record<string, string>;
  });
  afterAll(async () => {
    await sys?.stop();
    await rm(home, { recursive: true, force: true });
  });

  const voting = (...args: string[]) =>
    new Promise<Run>((resolve) => {
      const child = spawn(process.execPath, [BIN, ...args], { env });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
  const json = async (...args: string[]) => {
    const r = await voting(...args, "--json");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout);
  };

  it("when a person registers, logs in, votes and asks for results, then every step works", async () => {
    const cand = uniqueName("cand");
    const voter = uniqueName("voter");
    const c = await json("register", cand, "candidate-pw", "candidate");
    expect(c).toMatchObject({ username: cand, role: "candidate" });
    const v = await json("register", voter, "voter-pw-123", "voter");

    const login = await voting("login", voter, "voter-pw-123");
    expect(login.code).toBe(0);
    expect(login.stdout).toMatch(new RegExp(`logged in as ${voter} \\(voter, id ${v.id}\\)`));
    const session = join(env.VOTING_CONFIG_DIR, "session.json");
    expect((await stat(session)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(session, "utf8"))).toMatchObject({ userId: v.id, role: "voter" });

    const list = await json("candidates");
    expect(list.candidates).toContainEqual({ id: c.id, name: cand });
    const human = await voting("candidates");
    expect(human.stdout).toMatch(new RegExp(`${c.id}\\s+${cand}`));

    const voted = await voting("vote", String(c.id));
    expect(voted.code).toBe(0);
    expect(voted.stdout).toMatch(/tracking code: [0-9A-Z]{26}/);
    const receipts = (await readFile(join(env.VOTING_CONFIG_DIR, "receipts.jsonl"), "utf8")).trim().split("\n");
    expect(receipts).toHaveLength(1);

    const again = await voting("vote", String(c.id));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^voting: ALREADY_VOTED: a ballot from you is already recorded in election 1.*\(ALREADY_EXISTS\)\n$/);

    let results;
    for (let i = 0; i < 100; i++) {
      results = await json("results");
      if (results.totalBallots >= 1) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(results.candidates.find((x: { candidateId: number }) => x.candidateId === c.id)).toMatchObject({ votes: "1", percentage: 100, elected: true });
    const table = await voting("results");
    expect(table.stdout).toMatch(new RegExp(`\\*\\s+${c.id}\\s+${cand}\\s+1\\s+100\\.00%`));
    expect(table.stdout).toMatch(/ID\s+CANDIDATE\s+VOTES/);
    expect(table.stdout).not.toMatch(/ROUND/);
  });

  it("when the original vote form names a user who is not the token's subject, then it is refused", async () => {
    const cand = await sys.user("candidate");
    const a = await sys.user("voter");
    const b = await sys.user("voter");
    const refused = await voting("vote", String(b.id), String(cand.id), a.token);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(`voting: user id ${b.id} is not the token's subject (${a.id})\n`);
    const ok = await voting("vote", String(a.id), String(cand.id), a.token, "--json");
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ electionId: 1 });
  });

  it("when the usage is wrong, then exit 2 with a one-line error", async () => {
    for (const args of [["register", "only-one"], ["register", "x", "y", "admin"], ["nope"], [], ["vote", "1", "2"], ["vote", "--approve", "1", "--rank", "2"], ["vote", "1", "--rank", "2"]]) {
      const r = await voting(...args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
  });

  it("when a server refuses, then exit 1 with its reason, message, code and the field at fault", async () => {
    const r = await voting("register", "ab", "long-enough", "voter");
    expect(r).toMatchObject({ code: 1, stderr: "voting: INVALID_USERNAME: username must be 3 to 64 characters from a-z, A-Z, 0-9, '.', '_' and '-' (INVALID_ARGUMENT, field username)\n" });
    const bad = await voting("login", uniqueName("nobody"), "whatever-pw");
    expect(bad).toMatchObject({ code: 1, stderr: "voting: LOGIN_FAILED: invalid username or password (UNAUTHENTICATED)\n" });
  });

  it("when results are watched, then each counted ballot redraws them until Ctrl-C", async () => {
    const cand = await sys.user("candidate");
    const child = spawn(process.execPath, [BIN, "results", "--watch", "--json"], { env });
    const frames: { totalBallots?: number }[] = [];
    let buffered = "";
    const waitFrames = (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => frames.length >= n && resolve();
        child.stdout.on("data", check);
        check();
      });
    child.stdout.on("data", (d) => {
      buffered += d;
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const l of lines) if (l) frames.push(JSON.parse(l));
    });
    await waitFrames(1);
    const start = frames[0].totalBallots ?? 0;
    const voter = await sys.user("voter");
    await sys.client(voter.token).votes.castVote({ ballot: { choices: [cand.id] } });
    await waitFrames(2);
    expect(frames.at(-1)!.totalBallots).toBe(start + 1);
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    child.kill("SIGINT");
    expect(await exited).toBe(0);
  });
});
