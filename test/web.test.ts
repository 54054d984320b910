// The web front end in a real Chromium: an official runs an IRV election with a roll, three
// voters vote (one without JavaScript), a results page follows live over SSE, and the final
// result on the page equals `voting results --json`. An official without JavaScript uploads a roll
// file. Refusals: off the roll (no vote link, then refused), a second ballot, posts without a
// CSRF token. axe-core checks every page it visits (with JavaScript on).
// SQLite only: the web server keeps no data of its own, the services' suites run on both stores
// (test/voter-elections.test.ts covers what the elections page asks), and a MariaDB run passed
// but added about 115 s on a shared machine.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { get, type ClientRequest, type IncomingMessage } from "node:http";
import { readWebConfig, startWebServer, type WebServer } from "@voting/web";
import { cliEnv, runCli, startSystem, uniqueName, type System } from "./harness.js";
import { expectAccessible, launchChromium } from "./web-browser.js";

const shots = process.env.WEB_SCREENSHOTS_DIR;

describe("web front end in Chromium [sqlite]", () => {
  let sys: System;
  let web: WebServer;
  let browser: Browser;
  let dir: string;
  const contexts: BrowserContext[] = [];
  const context = async (javaScriptEnabled = true) => {
    const c = await browser.newContext({ javaScriptEnabled, baseURL: web.url, acceptDownloads: true });
    c.setDefaultTimeout(30_000);
    contexts.push(c);
    return c;
  };
  const shot = async (page: Page, name: string) => {
    if (shots) await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  };

  beforeAll(async () => {
    sys = await startSystem("sqlite");
    web = await startWebServer(readWebConfig({ AUTH_ADDR: sys.addrs.auth, VOTE_ADDR: sys.addrs.vote, TALLY_ADDR: sys.addrs.tally, WEB_PORT: "0", LOG_LEVEL: "silent" }));
    browser = await launchChromium();
    dir = await mkdtemp(join(tmpdir(), "voting-web-"));
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await web?.stop();
    await sys?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function signIn(page: Page, username: string, password: string) {
    await page.goto("/login");
    await page.getByLabel("Username").fill(username);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.locator(".who").textContent()).toContain(username);
  }

  it("when an official runs an IRV election and three voters vote, then the live page ends equal to `voting results --json`", async () => {
    const t0 = Date.now();
    const step = (what: string) => process.env.WEB_TEST_TRACE && console.log(`${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`);
    const names = ["Ada", "Brook", "Cyd"];
    step('The official creates the election and');
    // The official creates the election and uploads the roll (file and progress bar).
    const official = await (await context()).newPage();
    await signIn(official, "admin", "admin-password");
    await official.goto("/admin");
    await expectAccessible(official);
    await official.getByLabel("Title").fill("Club chair");
    await official.getByLabel("Counting method").selectOption("irv");
    await official.getByLabel("Candidates, one per line").fill(names.join("\n"));
    await official.getByLabel(/Show results while/).check();
    await shot(official, "official-create");
    await official.getByRole("button", { name: "Create the election" }).click();
    await official.waitForURL(/\/admin\/elections\/\d+$/);
    const electionId = Number(/(\d+)$/.exec(official.url())![1]);

    const voters = [uniqueName("v1"), uniqueName("v2"), uniqueName("v3")];
    const outsider = await sys.user("voter");
    const rollFile = join(dir, "roll.csv");
    await writeFile(rollFile, `username\n${voters.join("\n")}\n`);
    await official.locator("#rollfile").setInputFiles(rollFile);
    await official.getByRole("button", { name: "Add to the roll" }).click();
    await expect.poll(() => official.locator("[data-roll]").textContent(), { timeout: 15_000 }).toContain("3 usernames");
    await expectAccessible(official);

    // Without JavaScript the same form posts the file itself (multipart; the CSRF token is its first field).
    const plain = await (await context(false)).newPage();
    await signIn(plain, "admin", "admin-password");
    await plain.goto(`/admin/elections/${electionId}`);
    const moreFile = join(dir, "more.csv");
    await writeFile(moreFile, `username\n${uniqueName("late")}\n${uniqueName("late")}\n`);
    await plain.locator("#rollfile").setInputFiles(moreFile);
    await plain.getByRole("button", { name: "Add to the roll" }).click();
    await expect.poll(() => plain.locator("[data-roll]").textContent()).toContain("5 usernames");
    // A multipart post without the token (or with it not first) is refused before the file is read.
    for (const multipart of [{ rollfile: { name: "x.csv", mimeType: "text/csv", buffer: Buffer.from(outsider.username) } }, { rollfile: { name: "x.csv", mimeType: "text/csv", buffer: Buffer.from(outsider.username) }, _csrf: "x" }]) {
      const forgedRoll = await plain.request.post(`/admin/elections/${electionId}/roll`, { multipart, maxRedirects: 0 });
      expect(forgedRoll.status()).toBe(403);
    }
    await plain.reload();
    await expect(plain.locator("[data-roll]").textContent()).resolves.toContain("5 usernames");
    await official.getByRole("button", { name: "Open the election" }).click();
    await expect.poll(() => official.locator("[data-state]").textContent()).toBe("open");
    await shot(official, "official-manage");

    step('A results page left open (JavaScript ');
    // A results page left open (JavaScript on) follows the count without a reload.
    const watcher = await (await context()).newPage();
    await watcher.goto(`/elections/${electionId}/results`);
    await expectAccessible(watcher);
    await watcher.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));

    step('Voter 1 registers on the site; voters');
    // Voter 1 registers on the site; voters 2 and 3 exist already. Voter 2 has no JavaScript.
    const password = "web-pass-1234";
    const v1 = await (await context()).newPage();
    await v1.goto("/register");
    await expectAccessible(v1);
    await v1.getByLabel("Username").fill(voters[0]);
    await v1.getByLabel("Password").fill(password);
    await v1.getByRole("button", { name: "Register" }).click();
    await v1.waitForURL(/\/elections$/);
    await expectAccessible(v1);
    // A voter on the roll gets a vote link for the election.
    const voteLink = (p: Page) => p.locator(`tr[data-election="${electionId}"] a[href="/elections/${electionId}/vote"]`);
    await expect(voteLink(v1).count()).resolves.toBe(1);
    for (const v of voters.slice(1)) await sys.client().auth.register({ username: v, password, role: 1 });
    const v2 = await (await context(false)).newPage();
    await signIn(v2, voters[1], password);
    const v3 = await (await context()).newPage();
    await signIn(v3, voters[2], password);

    step('Rankings: Ada > Cyd; Brook > Cyd > Ad');
    // Rankings: Ada > Cyd; Brook > Cyd > Ada; Cyd > Brook.
    const rankings = [["Ada", "Cyd"], ["Brook", "Cyd", "Ada"], ["Cyd", "Brook"]];
    const codes: string[] = [];
    for (const [i, page] of [v1, v2, v3].entries()) {
      await page.goto(`/elections/${electionId}/vote`);
      if (i === 0) await expectAccessible(page);
      if (i === 0) await shot(page, "voter-ballot");
      // Ranked with the keyboard alone: focus each select and choose with the arrow keys.
      for (const [rank, name] of rankings[i].entries()) {
        const select = page.getByLabel(name, { exact: true });
        await select.focus();
        for (let k = 0; k <= rank; k++) await page.keyboard.press("ArrowDown");
        await expect(select.inputValue()).resolves.toBe(String(rank + 1));
      }
      await page.getByRole("button", { name: "Cast my ballot" }).click();
      await page.waitForURL(/\/receipts\//);
      codes.push((await page.locator("#tracking-code").textContent())!);
      if (i === 0) {
        await expectAccessible(page);
        await shot(page, "voter-receipt");
      }
      await expect.poll(() => watcher.locator("[data-total]").textContent(), { timeout: 15_000 }).toBe(String(i + 1));
    }
    expect(await watcher.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    await shot(watcher, "results-live");

    step("The receipt file is the CLI's receipt");
    // The receipt file is the CLI's receipts.jsonl line; the verify page checks it with the CLI's checks.
    const download = v1.waitForEvent("download");
    await v1.getByRole("link", { name: "Download the receipt file" }).click();
    const receiptText = await readFile((await (await download).path())!, "utf8");
    const receipt = JSON.parse(receiptText.trim());
    expect(receipt).toMatchObject({ trackingCode: codes[0], electionId });
    expect(typeof receipt.checkpoint).toBe("string");
    await v1.goto("/verify");
    await v1.getByLabel("Tracking code").fill(codes[0]);
    await v1.getByLabel("Or paste the receipt file's text (optional)").fill(receiptText);
    await v1.getByRole("button", { name: "Verify" }).click();
    await expect.poll(() => v1.locator("main").textContent()).toContain("exactly as your receipt says");
    await expect(v1.locator("main").textContent()).resolves.toContain("inclusion proven");
    await expectAccessible(v1);
    await shot(v1, "verify");
    step('The CLI accepts the same file as a sa');
    // The CLI accepts the same file as a saved receipt.
    const cfg = join(dir, "cli");
    await rm(cfg, { recursive: true, force: true });
    await (await import("node:fs/promises")).mkdir(cfg, { recursive: true });
    await writeFile(join(cfg, "receipts.jsonl"), receiptText);
    const cliVerify = await runCli(["verify", codes[0], "--json"], cliEnv(sys, cfg));
    expect(cliVerify.code, cliVerify.stderr).toBe(0);
    expect(JSON.parse(cliVerify.stdout)).toMatchObject({ trackingCode: codes[0], matchesSavedReceipt: true });

    step('Refusals, each with a clear message.');
    // Refusals, each with a clear message.
    await v2.goto(`/elections/${electionId}/vote`);
    await v2.getByLabel("Ada", { exact: true }).selectOption("1");
    await v2.getByRole("button", { name: "Cast my ballot" }).click();
    await expect.poll(() => v2.getByRole("alert").textContent()).toMatch(/Already done/);
    step("second ballot refused");
    const off = await (await context(false)).newPage();
    await signIn(off, outsider.username, outsider.password);
    // Not on the roll: the elections page offers no vote link and says why.
    await off.goto("/elections");
    await expect(voteLink(off).count()).resolves.toBe(0);
    await expect(off.locator(`tr[data-election="${electionId}"]`).textContent()).resolves.toContain("Not on the roll");
    await off.goto(`/elections/${electionId}/vote`);
    await off.getByLabel("Ada", { exact: true }).selectOption("1");
    await off.getByRole("button", { name: "Cast my ballot" }).click();
    await expect.poll(() => off.getByRole("alert").textContent()).toMatch(/Not allowed: .*roll/i);
    step("outsider refused");
    const forged = await off.request.post(`/elections/${electionId}/vote`, { form: { rank_1: "1" }, maxRedirects: 0 });
    expect(forged.status()).toBe(403);
    expect(await forged.text()).toContain("CSRF token");

    step('The official closes; the open page sh');
    // The official closes; the open page shows the final result, equal to the CLI's.
    await official.getByRole("button", { name: "Close the election" }).click();
    await expect.poll(() => official.locator("[data-state]").textContent()).toBe("closed");
    await expect.poll(() => watcher.locator("[data-final=true]").count(), { timeout: 15_000 }).toBe(1);
    await expectAccessible(watcher);
    await shot(watcher, "results-final");
    const cli = await runCli(["results", "--election", String(electionId), "--json"], cliEnv(sys, cfg));
    expect(cli.code, cli.stderr).toBe(0);
    const want = JSON.parse(cli.stdout);
    const onPage = await watcher.evaluate(() => ({
      total: document.querySelector("[data-total]")!.textContent,
      winners: document.querySelector("[data-winners]")?.textContent,
      candidates: [...document.querySelectorAll("tr[data-candidate]")].map((tr) => ({
        candidateId: Number((tr as HTMLElement).dataset.candidate),
        name: tr.querySelector("th")!.textContent,
        votes: tr.querySelector("[data-votes]")!.textContent,
        share: tr.querySelector("[data-share]")!.textContent,
        elected: (tr.querySelector("[data-elected]") as HTMLElement).dataset.elected === "true",
      })),
      rounds: [...document.querySelectorAll("tr[data-round-candidate]")].map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)),
      exhausted: [...document.querySelectorAll("tr[data-exhausted] td")].map((td) => td.textContent),
      statement: document.querySelector(".statement")?.textContent,
    }));
    type Cand = { candidateId: number; name: string; votes: string; percentage: number; elected: boolean };
    type Round = { counts: { candidateId: number; votes: string }[]; exhausted: string };
    expect(want.final).toBe(true);
    expect(onPage.total).toBe(String(want.totalBallots));
    expect(onPage.winners).toBe(want.winners.map((id: number) => want.candidates.find((c: Cand) => c.candidateId === id).name).join(", "));
    expect(onPage.candidates).toEqual(want.candidates.map((c: Cand) => ({ candidateId: c.candidateId, name: c.name, votes: c.votes, share: `${c.percentage.toFixed(2)}%`, elected: c.elected })));
    expect(onPage.rounds).toEqual(want.candidates.map((c: Cand) => want.rounds.map((r: Round) => r.counts.find((x) => x.candidateId === c.candidateId)?.votes ?? "–")));
    expect(onPage.exhausted).toEqual(want.rounds.map((r: Round) => r.exhausted));
    expect(onPage.statement).toBe(want.statement);
    expect(want.rounds.length).toBeGreaterThan(1);
  }, 480_000);

  it("when a page is served, then the session cookie is HttpOnly and SameSite=Strict and the CSP allows no inline script or style", async () => {
    const c = await context();
    const page = await c.newPage();
    const res = await page.goto("/login");
    const csp = res!.headers()["content-security-policy"];
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    await page.getByLabel("Username").fill("admin");
    await page.getByLabel("Password").fill("admin-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(/\/elections$/);
    const sid = (await c.cookies()).find((k) => k.name === "sid")!;
    expect(sid).toMatchObject({ httpOnly: true, sameSite: "Strict" });
    // The page's own scripts never see the session or a token.
    expect(await page.evaluate(() => document.cookie)).not.toContain("sid=");
    expect(await page.content()).not.toMatch(/eyJ[\w-]+\.eyJ/);
    await expectAccessible(page);
    // An error page (here: no such election) says so plainly, accessibly, without a stack trace.
    await page.goto("/elections/999999/results");
    await expect(page.getByRole("alert").textContent()).resolves.toMatch(/^Not found: /);
    expect(await page.content()).not.toMatch(/\bat .*\.(ts|js):\d+/);
    await expectAccessible(page);
  });

  it("when one address opens more live-results streams than WEB_LIVE_PER_CLIENT, then the extra one gets 429 and a closed one frees its slot", async () => {
    const limit = readWebConfig({}).liveLimits.perClient;
    const open = (): Promise<{ req: ClientRequest; res: IncomingMessage }> =>
      new Promise((resolve, reject) => {
        const req = get(new URL("/elections/1/results/events", web.url), (res) => resolve({ req, res }));
        req.on("error", reject);
      });
    const held: { req: ClientRequest; res: IncomingMessage }[] = [];
    try {
      for (let i = 0; i < limit; i++) {
        const s = await open();
        expect(s.res.statusCode).toBe(200);
        held.push(s);
      }
      const refused = await open();
      expect(refused.res.statusCode).toBe(429);
      expect(refused.res.headers["retry-after"]).toBe("10");
      refused.req.destroy();
      held.pop()!.req.destroy();
      // The server sees the close a moment later; then the slot is free again.
      await expect.poll(async () => {
        const s = await open();
        if (s.res.statusCode === 200) held.push(s);
        else s.req.destroy();
        return s.res.statusCode;
      }).toBe(200);
    } finally {
      for (const s of held) s.req.destroy();
    }
  });
});
