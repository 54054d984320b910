// Everyone: the live result page (server-rendered, then updated by Server-Sent Events fed by
// one shared WatchResults stream), and the public ballot log as a download.
import type { FastifyInstance } from "fastify";
import type { Web } from "../app.js";
import { html } from "../html.js";
import { resultHtml } from "../results-view.js";
import { electionId } from "./voter.js";

export function resultsRoutes(app: FastifyInstance, web: Web): void {
  const { client } = web;

  app.get<{ Params: { id: string } }>("/elections/:id/results", async (req, reply) => {
    const id = electionId(req.params.id);
    const { result } = await client.tally.getResults({ electionId: id });
    const r = result!;
    return web.render(req, reply, `Results: ${r.title}`, html`<div id="result" data-events="/elections/${id}/results/events">${resultHtml(r)}</div>
<p class="live" id="live-status" role="status" aria-live="polite">${r.final ? "" : "This page follows the count live when JavaScript is on; otherwise reload it to see the latest count."}</p>
<p><a href="/elections/${id}/log" download="election-${id}-log.jsonl">Download the public ballot log</a> (JSON lines), to recount or audit it with <code>voting audit</code>.</p>`);
  });

  app.get<{ Params: { id: string } }>("/elections/:id/results/events", (req, reply) => {
    const id = electionId(req.params.id);
    const slot = web.live.take(req.ip);
    if (typeof slot !== "function") {
      return reply.code(429).header("retry-after", "10").type("text/plain; charset=utf-8").send("Too many live result pages are open from your address; close some and reload.");
    }
    const release = slot;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", connection: "keep-alive", "x-accel-buffering": "no" });
    res.write("retry: 2000\n\n");
    // Every line of the fragment gets its own data: field (the SSE framing).
    const send = (event: string, text: string) => res.write(`event: ${event}\n${text.split("\n").map((l) => `data: ${l}`).join("\n")}\n\n`);
    const ping = setInterval(() => res.write(": ping\n\n"), 20_000);
    let closed = false;
    const unsubscribe = web.hub.subscribe(id, ({ result, error }) => {
      if (error) {
        send("failed", "The live count is not reachable right now; retrying.");
        return close();
      }
      send("result", resultHtml(result!).text);
      if (result!.final) close();
    });
    function close() {
      if (closed) return;
      closed = true;
      release();
      clearInterval(ping);
      // The subscribe call may still be on the stack: leave it after it returns.
      queueMicrotask(() => unsubscribe());
      res.end();
    }
    req.raw.on("close", close);
  });

  app.get<{ Params: { id: string } }>("/elections/:id/log", async (req, reply) => {
    const id = electionId(req.params.id);
    const stream = await client.votes.streamBallots({ electionId: id, afterSeq: 0, follow: false });
    reply.type("application/x-ndjson").header("content-disposition", `attachment; filename="election-${id}-log.jsonl"`);
    // Streamed through as it comes: this server keeps none of it.
    async function* lines() {
      for await (const msg of stream) for (const e of msg.entries) yield `${JSON.stringify(e)}\n`;
    }
    const { Readable } = await import("node:stream");
    return reply.send(Readable.from(lines()));
  });
}
