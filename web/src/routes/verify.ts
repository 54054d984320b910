// Anyone: check a ballot by its tracking code with the checks of `voting verify` (the same
// function), optionally against the receipt file kept from voting.
import type { FastifyInstance } from "fastify";
import { chainText, findReceipt, verifyBallot, verifyText } from "@voting/client";
import type { Web } from "../app.js";
import { form, html } from "../html.js";
import { FormError } from "../errors.js";

type Body = Record<string, unknown>;

export function verifyRoutes(app: FastifyInstance, web: Web): void {
  const verifyForm = (csrf: string, code = "") =>
    form("/verify", csrf, html`<p><label for="code">Tracking code</label><input id="code" name="code" value="${code}" required autocomplete="off" spellcheck="false"></p>
<p><label for="receiptfile">Receipt file (optional)</label><input id="receiptfile" type="file" accept=".jsonl,.json,application/json" data-receipt-file></p>
<p><label for="receipt">Or paste the receipt file's text (optional)</label><textarea id="receipt" name="receipt" rows="3" aria-describedby="receipt-help"></textarea>
<span id="receipt-help" class="help">With the receipt, the check also proves that the log only grew since you voted.</span></p>
<p><button type="submit">Verify</button></p>`);

  app.get<{ Querystring: { code?: string } }>("/verify", async (req, reply) =>
    web.render(req, reply, "Verify a ballot", verifyForm(web.csrf(reply), typeof req.query.code === "string" ? req.query.code : "")),
  );

  app.post<{ Body: Body }>("/verify", async (req, reply) => {
    const code = typeof req.body.code === "string" ? req.body.code.trim() : "";
    if (code === "") throw new FormError("Give the tracking code from your receipt.");
    const receiptText = typeof req.body.receipt === "string" ? req.body.receipt : "";
    const saved = receiptText.trim() ? findReceipt(receiptText, code) : undefined;
    if (receiptText.trim() && !saved) throw new FormError("The receipt given is not a receipt for this tracking code.");
    const report = await verifyBallot(web.client, code, { store: web.checkpoints, saved });
    const text = report.kind === "proofs" ? verifyText(report) : chainText(report);
    return web.render(
      req,
      reply,
      "Ballot verified",
      html`<p class="flash ok" role="status">Your ballot is in the log${saved ? " exactly as your receipt says" : ""}.</p>
<ul class="checks">${text.split("\n").map((l) => html`<li>${l}</li>`)}</ul>
<h2>Check another</h2>${verifyForm(web.csrf(reply))}`,
    );
  });
}
