// Officials (admins): create an election, add candidates, upload the voter roll, open, close, turnout.
import type { FastifyInstance } from "fastify";
import type { Readable } from "node:stream";
import { methodEnum, methodName, stateName, uploadRoll, voteV1, type RollProgress } from "@voting/client";
import type { Method } from "@voting/election-core";
import type { Web } from "../app.js";
import { form, html } from "../html.js";
import { FormError } from "../errors.js";
import { allElections, electionId } from "./voter.js";
import { MULTIPART_CSRF, readFormFile } from "../multipart.js";

type Body = Record<string, unknown>;

function pasted<T>(csv: unknown, upload: (csv: string) => Promise<T>): Promise<T> {
  if (typeof csv !== "string" || csv.trim() === "") throw new FormError("The roll is empty: choose a CSV file or paste usernames.");
  return upload(csv);
}
const str = (b: Body, k: string) => (typeof b[k] === "string" ? (b[k] as string).trim() : "");
const METHODS: Method[] = ["plurality", "approval", "irv", "stv", "schulze"];

/** A datetime-local value, read as UTC (the form says so). */
function utcTime(raw: string, what: string): Date | undefined {
  if (raw === "") return undefined;
  const t = new Date(/[zZ]|[+-]\d\d:\d\d$/.test(raw) ? raw : `${raw}Z`);
  if (Number.isNaN(t.getTime())) throw new FormError(`${what} is not a date and time.`);
  return t;
}

export function officialRoutes(app: FastifyInstance, web: Web): void {
  const { client } = web;

  app.get("/admin", async (req, reply) => {
    const { session } = await web.asUser(req);
    // The services decide (PERMISSION_DENIED); this only spares others a form they cannot use.
    if (session.role !== "admin") throw new FormError("Only officials (admins) run elections.");
    const list = await allElections(client);
    const csrf = web.csrf(reply);
    return web.render(req, reply, "Run elections", html`<h2>Elections</h2>
${list.length === 0 ? html`<p>None yet.</p>` : html`<table><caption>Every election</caption><thead><tr><th scope="col">Election</th><th scope="col">Method</th><th scope="col">State</th><th scope="col">Turnout</th></tr></thead><tbody>
${list.map((e) => html`<tr><td><a href="/admin/elections/${e.id}">${e.title}</a></td><td>${methodName(e.method)}</td><td>${stateName(e.state)}</td><td>${e.turnout}</td></tr>`)}</tbody></table>`}
<h2>Create an election</h2>
${form("/admin/elections", csrf, html`
<p><label for="title">Title</label><input id="title" name="title" required maxlength="200"></p>
<p><label for="description">Description</label><textarea id="description" name="description" rows="2"></textarea></p>
<p><label for="method">Counting method</label><select id="method" name="method">${METHODS.map((m) => html`<option value="${m}">${m}</option>`)}</select></p>
<p><label for="seats">Seats</label><input id="seats" name="seats" type="number" min="1" max="100" value="1" inputmode="numeric"></p>
<p><label for="candidates">Candidates, one per line</label><textarea id="candidates" name="candidates" rows="4"></textarea></p>
<p><label for="opens">Opens by itself at (UTC, optional)</label><input id="opens" name="opensAt" type="datetime-local"></p>
<p><label for="closes">Closes by itself at (UTC, optional)</label><input id="closes" name="closesAt" type="datetime-local"></p>
<div class="choice"><input type="checkbox" id="rwo" name="resultsWhileOpen" value="yes"><label for="rwo">Show results while the election is open (otherwise they are embargoed until it closes)</label></div>
<p><button type="submit">Create the election</button></p>`)}`);
  });

  app.post<{ Body: Body }>("/admin/elections", async (req, reply) => {
    const { call } = await web.asUser(req);
    const method = str(req.body, "method") as Method;
    if (!METHODS.includes(method)) throw new FormError("Choose a counting method.");
    const { election } = await client.elections.createElection(
      {
        title: str(req.body, "title"),
        description: str(req.body, "description"),
        method: methodEnum(method),
        seats: Number(str(req.body, "seats") || "1"),
        candidates: str(req.body, "candidates").split("\n").map((c) => c.trim()).filter(Boolean),
        opensAt: utcTime(str(req.body, "opensAt"), "The opening time"),
        closesAt: utcTime(str(req.body, "closesAt"), "The closing time"),
        resultsWhileOpen: req.body.resultsWhileOpen === "yes",
      },
      call,
    );
    return reply.redirect(`/admin/elections/${election!.id}`, 303);
  });

  app.get<{ Params: { id: string } }>("/admin/elections/:id", async (req, reply) => {
    const { call } = await web.asUser(req);
    const { election } = await client.elections.getElection({ electionId: electionId(req.params.id) }, call);
    const e = election!;
    const csrf = web.csrf(reply);
    const draft = e.state === voteV1.ElectionState.ELECTION_STATE_DRAFT;
    const open = e.state === voteV1.ElectionState.ELECTION_STATE_OPEN;
    const share = e.hasVoterRoll && e.voterRollSize > 0 ? ` (${((100 * e.turnout) / e.voterRollSize).toFixed(1)}% of the roll)` : "";
    return web.render(req, reply, `Election: ${e.title}`, html`<dl class="facts"><dt>State</dt><dd data-state>${stateName(e.state)}</dd><dt>Method</dt><dd>${methodName(e.method)}, ${e.seats} seat${e.seats === 1 ? "" : "s"}</dd>
<dt>Turnout</dt><dd data-turnout>${e.turnout} ballot${e.turnout === 1 ? "" : "s"}${share}</dd>
<dt>Voter roll</dt><dd data-roll>${e.hasVoterRoll ? `${e.voterRollSize} usernames` : "none: every voter may vote"}</dd>
<dt>Schedule</dt><dd>${e.opensAt ? `opens ${e.opensAt.toISOString()}` : "opened by hand"}; ${e.closesAt ? `closes ${e.closesAt.toISOString()}` : "closed by hand"}</dd>
<dt>Results</dt><dd>${e.resultsWhileOpen ? "shown while open" : "embargoed until the close"} · <a href="/elections/${e.id}/results">see results</a></dd></dl>
<h2>Candidates</h2>${e.candidates.length === 0 ? html`<p>None yet.</p>` : html`<ul>${e.candidates.map((c) => html`<li>${c.name}</li>`)}</ul>`}
${draft ? form(`/admin/elections/${e.id}/candidates`, csrf, html`<p><label for="cname">New candidate's name</label><input id="cname" name="name" required maxlength="200"> <button type="submit">Add candidate</button></p>`) : ""}
<h2>Voter roll</h2>
${form(`/admin/elections/${e.id}/roll`, csrf, html`<p><label for="rollfile">CSV file of usernames (first column; a "username" header is skipped)</label><input id="rollfile" name="rollfile" type="file" accept=".csv,text/csv,text/plain" data-roll-file></p>
<p><label for="csv">Or paste the CSV</label><textarea id="csv" name="csv" rows="4"></textarea></p>
<p><progress id="roll-progress" max="100" value="0" hidden aria-label="Voter roll upload"></progress> <span id="roll-status" role="status"></span></p>
<p><button type="submit">Add to the roll</button></p>`, "roll", 'data-roll-form enctype="multipart/form-data"')}
<h2>Open or close</h2>
${draft ? form(`/admin/elections/${e.id}/open`, csrf, html`<button type="submit">Open the election</button>`) : ""}
${open ? form(`/admin/elections/${e.id}/close`, csrf, html`<button type="submit">Close the election</button>`) : ""}
${!draft && !open ? html`<p>The election is closed.</p>` : ""}`);
  });

  app.post<{ Params: { id: string }; Body: Body }>("/admin/elections/:id/candidates", async (req, reply) => {
    const { call } = await web.asUser(req);
    const id = electionId(req.params.id);
    await client.elections.addCandidate({ electionId: id, name: str(req.body, "name") }, call);
    return reply.redirect(`/admin/elections/${id}`, 303);
  });

  // app.js posts the chosen file in slices (Accept: application/json) to drive the progress bar;
  // without JavaScript the form posts the file (multipart, streamed into uploadRoll) or the pasted CSV.
  app.post<{ Params: { id: string }; Body: Body }>("/admin/elections/:id/roll", { config: MULTIPART_CSRF }, async (req, reply) => {
    const id = electionId(req.params.id);
    const upload = async (csv: Readable | string) => uploadRoll(client, id, csv, undefined, (await web.asUser(req)).call);
    let p: RollProgress | undefined;
    if (req.isMultipart()) {
      const form = await readFormFile(app, req, upload);
      p = form.result ?? (await pasted(form.fields.csv, upload));
    } else p = await pasted(req.body.csv, upload);
    if (String(req.headers.accept ?? "").includes("application/json")) return reply.send(p);
    return reply.redirect(`/admin/elections/${id}`, 303);
  });

  for (const action of ["open", "close"] as const) {
    app.post<{ Params: { id: string } }>(`/admin/elections/:id/${action}`, async (req, reply) => {
      const { call } = await web.asUser(req);
      const id = electionId(req.params.id);
      if (action === "open") await client.elections.openElection({ electionId: id }, call);
      else await client.elections.closeElection({ electionId: id }, call);
      return reply.redirect(`/admin/elections/${id}`, 303);
    });
  }
}
