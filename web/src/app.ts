// The web front end: Fastify serving server-rendered pages, talking to the three services
// through the typed client like any other caller. It keeps no election data.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import cookie from "@fastify/cookie";
import csrf from "@fastify/csrf-protection";
import formbody from "@fastify/formbody";
import helmet from "@fastify/helmet";
import multipart from "@fastify/multipart";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CheckpointStore, createVotingClient, slotCounter, type CallOptions, type VotingClient } from "@voting/client";
import type { WebConfig } from "./config.js";
import { explain } from "./errors.js";
import { html, page, type Html, type PageOptions } from "./html.js";
import { SessionStore, type Session } from "./sessions.js";
import { ResultsHub } from "./results-hub.js";
import { multipartCsrfRoute } from "./multipart.js";
import { voterRoutes } from "./routes/voter.js";
import { officialRoutes } from "./routes/official.js";
import { resultsRoutes } from "./routes/results.js";
import { verifyRoutes } from "./routes/verify.js";

export const SESSION_COOKIE = "sid";

export interface Web {
  client: VotingClient;
  sessions: SessionStore;
  hub: ResultsHub;
  /** Open live-results streams, per client address and in all (WEB_LIVE_PER_CLIENT, WEB_LIVE_MAX). */
  live: ReturnType<typeof slotCounter>;
  /** Log keys pinned on first use and checkpoints seen by the verify page, for this process's life. */
  checkpoints: CheckpointStore;
  session(req: FastifyRequest): Session | undefined;
  /** Call options acting as the signed-in user (throws SignInNeeded without a session). */
  asUser(req: FastifyRequest): Promise<{ call: CallOptions; session: Session }>;
  render(req: FastifyRequest, reply: FastifyReply, title: string, body: Html, extra?: Partial<PageOptions>): FastifyReply;
  csrf(reply: FastifyReply): string;
  secureCookies: boolean;
}

const publicDir = fileURLToPath(new URL("../public/", import.meta.url));
const STATIC: Record<string, string> = { "app.css": "text/css; charset=utf-8", "app.js": "text/javascript; charset=utf-8" };

export class SignInNeeded extends Error {}

/** The page the failed form came from (its path only), else home. */
function backTo(req: FastifyRequest): string {
  try {
    const u = new URL(String(req.headers.referer ?? ""));
    return u.host === req.headers.host ? `${u.pathname}${u.search}` : "/";
  } catch {
    return "/";
  }
}

export async function buildWebApp(config: WebConfig): Promise<FastifyInstance> {
  const app = Fastify({
    https: config.https ?? null,
    bodyLimit: 8 * 1024 * 1024,
    // One access line per request: method, path without query, status. No bodies, cookies or headers.
    logger: {
      level: config.logLevel,
      serializers: {
        req: (req) => ({ method: req.method, url: String(req.url).split("?")[0] }),
        res: (res) => ({ statusCode: res.statusCode }),
      },
    },
  }) as unknown as FastifyInstance;
  const client = createVotingClient({ authAddr: config.authAddr, voteAddr: config.voteAddr, tallyAddr: config.tallyAddr, tls: config.ca ? { ca: config.ca } : undefined });
  const sessions = new SessionStore(client);
  const hub = new ResultsHub(client);
  const cookieOpts = { path: "/", httpOnly: true, sameSite: "strict" as const, secure: config.secureCookies };

  await app.register(cookie);
  await app.register(formbody);
  // Only the roll form takes a file; multipart posts elsewhere fail the CSRF check (no body).
  await app.register(multipart, { limits: { files: 1, fields: 4, fileSize: 256 * 1024 * 1024, fieldSize: 8 * 1024 * 1024 } });
  await app.register(csrf, { cookieOpts, cookieKey: "csrf" });
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    },
    strictTransportSecurity: config.https ? undefined : false,
  });

  const tokens = new WeakMap<FastifyReply, string>();
  const web: Web = {
    client,
    sessions,
    hub,
    live: slotCounter({ perKey: config.liveLimits.perClient, total: config.liveLimits.total }),
    checkpoints: new CheckpointStore(mkdtempSync(join(tmpdir(), "voting-web-checkpoints-"))),
    secureCookies: config.secureCookies,
    session: (req) => sessions.get(req.cookies[SESSION_COOKIE]),
    async asUser(req) {
      const session = web.session(req);
      if (!session) throw new SignInNeeded("Sign in first.");
      return { call: { token: await sessions.token(session) }, session };
    },
    // One token per response: a second generateCsrf on a first visit would make a second secret.
    csrf(reply) {
      let t = tokens.get(reply);
      if (!t) tokens.set(reply, (t = reply.generateCsrf()));
      return t;
    },
    render(req, reply, title, body, extra = {}) {
      const s = web.session(req);
      const text = page({ title, user: s && { username: s.username, role: s.role }, csrf: web.csrf(reply), ...extra }, body);
      return reply.type("text/html; charset=utf-8").header("cache-control", "no-store").send(text);
    },
  };

  // Every state-changing request carries the form's token (or the csrf-token header from app.js);
  // a multipart form's token is its first field.
  app.addHook("preHandler", (req, reply, done) => {
    if (req.method === "GET" || req.method === "HEAD") return done();
    if (multipartCsrfRoute(req)) return done(); // checked by readFormFile before the file is read
    app.csrfProtection(req, reply, done);
  });

  app.get<{ Params: { file: string } }>("/static/:file", async (req, reply) => {
    const type = STATIC[req.params.file];
    if (!type) return reply.code(404).send("not found");
    return reply.type(type).header("cache-control", "public, max-age=300").send(readFileSync(join(publicDir, req.params.file)));
  });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof SignInNeeded) return reply.redirect(`/login?next=${encodeURIComponent(String(req.url))}`, 303);
    const e = explain(err);
    if (e.internal) req.log.error({ err: { type: (err as Error).name, message: (err as Error).message } }, "request failed");
    reply.code(e.status);
    if (String(req.headers.accept ?? "").includes("application/json")) return reply.send({ error: e.message });
    return web.render(req, reply, "Could not do that", html`<p class="flash error" role="alert">${e.message}</p><p><a href="${backTo(req)}">Go back</a> · <a href="/">Home</a></p>`);
  });
  app.setNotFoundHandler((req, reply) => web.render(req, reply.code(404), "Page not found", html`<p>There is no page at this address. <a href="/">Home</a></p>`));

  voterRoutes(app, web);
  officialRoutes(app, web);
  resultsRoutes(app, web);
  verifyRoutes(app, web);
  app.addHook("onClose", async () => {
    hub.close();
    client.close();
  });
  return app;
}
