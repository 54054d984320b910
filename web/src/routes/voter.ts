// Voters: register, sign in, the elections, the ballot form, the receipt and its file.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { authV1, methodName, type CallOptions, normalTrackingCode, receiptRecord, stateName, voteV1, type VotingClient } from "@voting/client";
import { SESSION_COOKIE, type Web } from "../app.js";
import { form, html } from "../html.js";
import { FormError } from "../errors.js";
import { ballotChoices, ballotFields, ballotKind } from "../ballot-form.js";

type Body = Record<string, unknown>;
const str = (b: Body, k: string) => (typeof b[k] === "string" ? (b[k] as string) : "");

/** Only a local path is followed after sign-in (no open redirect). */
const localPath = (p: unknown) => (typeof p === "string" && /^\/(?![/\\])/.test(p) ? p : "/elections");

/** With a voter's call, each election says whether they may vote in it and whether they have. */
export async function allElections(client: VotingClient, call?: CallOptions): Promise<voteV1.Election[]> {
  const out: voteV1.Election[] = [];
  let pageToken = "";
  do {
    const r = await client.elections.listElections({ pageSize: 100, pageToken }, call);
    out.push(...r.elections);
    pageToken = r.nextPageToken;
  } while (pageToken && out.length < 1_000);
  return out;
}

export function voterRoutes(app: FastifyInstance, web: Web): void {
  const { client } = web;

  app.get("/", async (req, reply) =>
    web.render(req, reply, "Elections you can trust", html`<p>Vote, follow the count live, and check that your ballot was counted — all in this browser.</p>
<ul class="cards"><li><a href="/elections">See the elections</a>: vote in open ones, read results.</li>
<li><a href="/verify">Verify a ballot</a> with its tracking code.</li>
${web.session(req) ? "" : html`<li><a href="/register">Register</a> or <a href="/login">sign in</a> to vote.</li>`}</ul>`),
  );

  app.get("/register", async (req, reply) =>
    web.render(req, reply, "Register", form("/register", web.csrf(reply), html`
<p><label for="username">Username</label><input id="username" name="username" autocomplete="username" required minlength="3" maxlength="64" aria-describedby="username-help"><span id="username-help" class="help">3 to 64 characters: letters, digits, dot, dash, underscore.</span></p>
<p><label for="password">Password</label><input id="password" name="password" type="password" autocomplete="new-password" required minlength="8" maxlength="1024" aria-describedby="password-help"><span id="password-help" class="help">At least 8 characters.</span></p>
<fieldset><legend>I am registering as</legend>
<div class="choice"><input type="radio" id="role-voter" name="role" value="voter" checked><label for="role-voter">a voter</label></div>
<div class="choice"><input type="radio" id="role-candidate" name="role" value="candidate"><label for="role-candidate">a candidate</label></div></fieldset>
<p><button type="submit">Register</button></p>`)),
  );

  app.post<{ Body: Body }>("/register", async (req, reply) => {
    const role = str(req.body, "role") === "candidate" ? authV1.Role.ROLE_CANDIDATE : authV1.Role.ROLE_VOTER;
    await client.auth.register({ username: str(req.body, "username"), password: str(req.body, "password"), role });
    return signIn(req, reply, str(req.body, "username"), str(req.body, "password"), "/elections");
  });

  app.get<{ Querystring: { next?: string } }>("/login", async (req, reply) =>
    web.render(req, reply, "Sign in", form("/login", web.csrf(reply), html`<input type="hidden" name="next" value="${localPath(req.query.next)}">
<p><label for="username">Username</label><input id="username" name="username" autocomplete="username" required></p>
<p><label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button type="submit">Sign in</button></p>`)),
  );

  const signIn = async (req: FastifyRequest, reply: Parameters<Web["render"]>[1], username: string, password: string, next: string) => {
    web.sessions.end(req.cookies[SESSION_COOKIE]);
    const { id } = await web.sessions.login(username, password);
    reply.setCookie(SESSION_COOKIE, id, { path: "/", httpOnly: true, sameSite: "strict", secure: web.secureCookies });
    return reply.redirect(next, 303);
  };

  app.post<{ Body: Body }>("/login", async (req, reply) => signIn(req, reply, str(req.body, "username"), str(req.body, "password"), localPath(req.body.next)));

  app.post("/logout", async (req, reply) => {
    web.sessions.end(req.cookies[SESSION_COOKIE]);
    reply.clearCookie(SESSION_COOKIE, { path: "/" });
    return reply.redirect("/", 303);
  });

  app.get("/elections", async (req, reply) => {
    const session = web.session(req);
    const list = await allElections(client, session ? (await web.asUser(req)).call : undefined);
    const shown = list.filter((e) => e.state !== voteV1.ElectionState.ELECTION_STATE_DRAFT);
    const row = (e: voteV1.Election) => {
      const open = e.state === voteV1.ElectionState.ELECTION_STATE_OPEN;
      // The vote-server says, for a voter, whether they are on the roll and have voted already.
      const votable = open && e.callerMayVote === true;
      const standing = e.callerHasVoted ? html`<span data-voted>You voted</span> · ` : open && e.callerMayVote === false ? html`<span data-not-eligible>Not on the roll</span> · ` : "";
      return html`<tr data-election="${e.id}"><td>${e.title}</td><td>${methodName(e.method)}</td><td>${stateName(e.state)}</td>
<td>${standing}${votable ? html`<a href="/elections/${e.id}/vote">Vote<span class="sr"> in ${e.title}</span></a> · ` : ""}<a href="/elections/${e.id}/results">Results<span class="sr"> of ${e.title}</span></a></td></tr>`;
    };
    return web.render(req, reply, "Elections", html`${session ? "" : html`<p><a href="/login?next=/elections">Sign in</a> to vote.</p>`}
${shown.length === 0 ? html`<p>No election is open or closed yet.</p>` : html`<table><caption>Open and closed elections</caption><thead><tr><th scope="col">Election</th><th scope="col">Method</th><th scope="col">State</th><th scope="col">Actions</th></tr></thead><tbody>${shown.map(row)}</tbody></table>`}`);
  });

  app.get<{ Params: { id: string } }>("/elections/:id/vote", async (req, reply) => {
    const { call } = await web.asUser(req);
    const { election } = await client.elections.getElection({ electionId: electionId(req.params.id), withoutTurnout: true }, call);
    const e = election!;
    if (e.state !== voteV1.ElectionState.ELECTION_STATE_OPEN) throw new FormError(`${e.title} is ${stateName(e.state)}: it takes no ballots now.`);
    const kind = ballotKind(methodName(e.method) ?? "");
    return web.render(req, reply, `Vote: ${e.title}`, html`${e.description ? html`<p>${e.description}</p>` : ""}
<p>Method: ${methodName(e.method)}${e.seats > 1 ? `, ${e.seats} seats` : ""}. You can vote once; your ballot is secret and you get a tracking code to check it later.</p>
${form(`/elections/${e.id}/vote`, web.csrf(reply), html`${ballotFields(kind, e.candidates)}<p><button type="submit">Cast my ballot</button></p>`, "ballot")}`);
  });

  app.post<{ Params: { id: string }; Body: Body }>("/elections/:id/vote", async (req, reply) => {
    const { call, session } = await web.asUser(req);
    const id = electionId(req.params.id);
    const { election } = await client.elections.getElection({ electionId: id, withoutTurnout: true }, call);
    const choices = ballotChoices(ballotKind(methodName(election!.method) ?? ""), req.body, election!.candidates);
    const { receipt } = await client.votes.castVote({ electionId: id, ballot: { choices } }, call);
    session.receipts.set(receipt!.trackingCode, receipt!);
    return reply.redirect(`/receipts/${encodeURIComponent(receipt!.trackingCode)}`, 303);
  });

  app.get<{ Params: { code: string } }>("/receipts/:code", async (req, reply) => {
    const { session } = await web.asUser(req);
    const r = session.receipts.get(normalTrackingCode(req.params.code));
    if (!r) throw new FormError("This session holds no receipt with that tracking code.");
    return web.render(req, reply, "Your ballot is recorded", html`<p role="status">Your ballot was recorded in the log of election ${r.electionId} at position ${r.seq}.</p>
<dl class="receipt"><dt>Tracking code</dt><dd><code id="tracking-code">${r.trackingCode}</code></dd><dt>Ballot hash</dt><dd><code class="wrap">${r.ballotHash}</code></dd></dl>
<p><a href="/receipts/${r.trackingCode}/file" download="receipt-${r.trackingCode}.jsonl">Download the receipt file</a> and keep it: it proves what the log held when you voted. The CLI reads it too (append it to <code>receipts.jsonl</code> and run <code>voting verify ${r.trackingCode}</code>).</p>
<p><a href="/verify?code=${r.trackingCode}">Verify this ballot now</a> · <a href="/elections/${r.electionId}/results">Results</a></p>`);
  });

  app.get<{ Params: { code: string } }>("/receipts/:code/file", async (req, reply) => {
    const { session } = await web.asUser(req);
    const r = session.receipts.get(normalTrackingCode(req.params.code));
    if (!r) throw new FormError("This session holds no receipt with that tracking code.");
    return reply
      .type("application/x-ndjson")
      .header("content-disposition", `attachment; filename="receipt-${r.trackingCode}.jsonl"`)
      .header("cache-control", "no-store")
      .send(`${JSON.stringify(receiptRecord(r))}\n`);
  });
}

export function electionId(raw: string): number {
  if (!/^\d{1,15}$/.test(raw)) throw new FormError("That is not an election number.");
  return Number(raw);
}
