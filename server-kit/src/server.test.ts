// A call through startGrpcServer. Its one call interceptor (call-log.ts with auth.ts's check):
// every call, allowed or refused, gets its request id back, one access line with peer and
// principal, and a count under its method and code; tokens are checked even on public methods,
// and only allowed calls run. The unary adapter: handlers answer at once or with a promise.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client, credentials, Metadata, status as Status, type ServiceDefinition, type ServiceError } from "@grpc/grpc-js";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { randomUUID } from "node:crypto";
import { errorDetails } from "@voting/api";
import { ACCESS_TOKEN_TYPE, createTokenVerifier, type AccessTable } from "./auth.js";
import { createCachedKeySet } from "./jwks.js";
import { unary } from "./handlers.js";
import { createLogger } from "./logger.js";
import { NotFoundError } from "./errors.js";
import { serverMetrics } from "./metrics.js";
import { startGrpcServer, type RunningServer } from "./server.js";

const identity = (b: Buffer) => b;
const method = (name: string) => ({ path: `/test.T/${name}`, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity, originalName: name });
const definition: ServiceDefinition = { Public: method("Public"), Voters: method("Voters"), Admins: method("Admins"), Unlisted: method("Unlisted"), At: method("At") };
const access: AccessTable = { "/test.T/Public": "public", "/test.T/Voters": ["voter"], "/test.T/Admins": ["admin"], "/test.T/At": "public" };

const lines: Record<string, unknown>[] = [];
const log = createLogger("test", "info", { write: (line: string) => void lines.push(JSON.parse(line)) });
const metrics = serverMetrics();
let ran = 0;
let server: RunningServer;
let client: Client;
let key: Awaited<ReturnType<typeof generateKeyPair>>;

/** What the handler saw of its call. */
const seen = unary(log, async (_req: Buffer, ctx) => {
  ran++;
  return Buffer.from(JSON.stringify({ principal: ctx.principal ?? null, requestId: ctx.upstream.requestId, peer: ctx.peer }));
});

/** Answers at once, throws at once, or rejects, as the request says. */
const at = unary(log, (req: Buffer): Buffer | Promise<Buffer> => {
  const how = req.toString();
  if (how === "answer") return Buffer.from("now");
  if (how === "refuse") throw new NotFoundError("no such thing", { reason: "NOTHING" });
  if (how === "bug") throw new Error("a bug");
  return Promise.reject(new NotFoundError("not later either", { reason: "NOTHING" }));
});

beforeAll(async () => {
  key = await generateKeyPair("EdDSA", { crv: "Ed25519" });
  const jwk = { ...(await exportJWK(key.publicKey)), kid: "k", alg: "EdDSA", use: "sig" };
  const verifier = createTokenVerifier({ keys: createCachedKeySet(async () => [jwk], 0).getKey, issuer: "iss", audience: "aud" });
  server = await startGrpcServer({
    host: "127.0.0.1",
    port: 0,
    services: [{ name: "test.T", definition, implementation: { Public: seen, Voters: seen, Admins: seen, Unlisted: seen, At: at } }],
    access,
    verifier,
    log,
    metrics,
  });
  client = new Client(`127.0.0.1:${server.port}`, credentials.createInsecure());
});

afterAll(async () => {
  client?.close();
  await server?.shutdown(100);
});

const token = (role: string) =>
  new SignJWT({ role, name: "ann" })
    .setProtectedHeader({ alg: "EdDSA", kid: "k", typ: ACCESS_TOKEN_TYPE })
    .setSubject("7")
    .setIssuer("iss")
    .setAudience("aud")
    .setIssuedAt()
    .setExpirationTime("15m")
    .setJti(randomUUID())
    .sign(key.privateKey);

interface Outcome {
  code: number;
  reason?: string;
  body?: { principal: unknown; requestId: string; peer: string };
  /** x-request-id in the response headers, or in the trailers when there were none. */
  requestId: unknown;
  inHeaders: boolean;
}

function call(name: string, md: Record<string, string> = {}, request = Buffer.alloc(0)): Promise<Outcome & { raw?: Buffer; details: string }> {
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(md)) metadata.set(k, v);
  return new Promise((resolve) => {
    let headers: Metadata | undefined;
    let result: { err: ServiceError | null; res?: Buffer } | undefined;
    const c = client.makeUnaryRequest(`/test.T/${name}`, identity, identity, request, metadata, (err, res) => (result = { err, res }));
    c.on("metadata", (m) => (headers = m));
    c.on("status", (s) => {
      // The callback has run before "status" is emitted.
      const { err, res } = result!;
      const fromHeaders = headers?.get("x-request-id")[0];
      resolve({
        code: s.code,
        reason: err ? errorDetails(err)?.reason : undefined,
        body: res && name !== "At" ? JSON.parse(res.toString()) : undefined,
        raw: res,
        details: s.details,
        requestId: fromHeaders ?? s.metadata.get("x-request-id")[0],
        inHeaders: fromHeaders !== undefined,
      });
    });
  });
}

const accessLine = (reqId: unknown) => lines.filter((l) => l.msg === "rpc" && l.reqId === reqId);
const counted = async (name: string, code: string) => {
  const m = (await metrics.registry.getSingleMetric("grpc_server_handled_total")!.get()).values.find((v) => v.labels.grpc_method === name && v.labels.grpc_code === code);
  return m?.value ?? 0;
};

describe("the call interceptor", () => {
  it("when a public method is called without a token, then it runs with a new request id, returned in the headers, one access line and an OK count", async () => {
    const before = await counted("Public", "OK");
    const r = await call("Public");
    expect(r.code).toBe(Status.OK);
    expect(r.inHeaders).toBe(true);
    expect(r.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.body).toEqual({ principal: null, requestId: r.requestId, peer: "127.0.0.1" });
    expect(accessLine(r.requestId)).toEqual([expect.objectContaining({ method: "/test.T/Public", code: Status.OK, peer: "127.0.0.1" })]);
    expect(accessLine(r.requestId)[0]).not.toHaveProperty("principal");
    expect(await counted("Public", "OK")).toBe(before + 1);
  });

  it("when the caller sends an x-request-id, then it is kept and returned; a malformed one is replaced", async () => {
    const kept = await call("Public", { "x-request-id": "caller-id-1" });
    expect(kept.requestId).toBe("caller-id-1");
    expect(kept.body?.requestId).toBe("caller-id-1");
    const replaced = await call("Public", { "x-request-id": "no spaces allowed" });
    expect(replaced.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("when a public method is called with an invalid or malformed token, then it is refused before it runs, with the request id in the trailers, logged and counted", async () => {
    const before = await counted("Public", "UNAUTHENTICATED");
    const runs = ran;
    const forged = await call("Public", { authorization: `Bearer ${(await token("voter")).slice(0, -4)}AAAA` });
    expect(forged).toMatchObject({ code: Status.UNAUTHENTICATED, reason: "TOKEN_INVALID", inHeaders: false });
    expect(accessLine(forged.requestId)).toEqual([expect.objectContaining({ method: "/test.T/Public", code: Status.UNAUTHENTICATED })]);
    const basic = await call("Public", { authorization: "Basic YW5uOnB3" });
    expect(basic).toMatchObject({ code: Status.UNAUTHENTICATED, reason: "TOKEN_INVALID" });
    expect(ran).toBe(runs);
    expect(await counted("Public", "UNAUTHENTICATED")).toBe(before + 2);
  });

  it("when a public method is called with a valid token, then it runs as that principal", async () => {
    const r = await call("Public", { authorization: `Bearer ${await token("voter")}` });
    expect(r.code).toBe(Status.OK);
    expect(r.body?.principal).toEqual({ userId: 7, role: "voter", username: "ann" });
    expect(accessLine(r.requestId)[0]).toMatchObject({ principal: "voter:7" });
  });

  it("when a role's method is called without a token, with the role or with another role, then TOKEN_REQUIRED, it runs, or PERMISSION_DENIED naming the caller", async () => {
    expect(await call("Voters")).toMatchObject({ code: Status.UNAUTHENTICATED, reason: "TOKEN_REQUIRED" });
    const voter = `Bearer ${await token("voter")}`;
    const okBefore = await counted("Voters", "OK");
    const allowed = await call("Voters", { authorization: voter });
    expect(allowed.code).toBe(Status.OK);
    expect(allowed.body?.principal).toMatchObject({ role: "voter" });
    const before = await counted("Admins", "PERMISSION_DENIED");
    const denied = await call("Admins", { authorization: voter });
    expect(denied).toMatchObject({ code: Status.PERMISSION_DENIED, reason: "ROLE_NOT_ALLOWED" });
    expect(accessLine(denied.requestId)[0]).toMatchObject({ principal: "voter:7", code: Status.PERMISSION_DENIED });
    expect(await counted("Admins", "PERMISSION_DENIED")).toBe(before + 1);
    expect(await counted("Voters", "OK")).toBe(okBefore + 1);
  });

  it("when a served method has no access rule, then UNIMPLEMENTED, logged and counted, and it never runs", async () => {
    const runs = ran;
    const r = await call("Unlisted");
    expect(r.code).toBe(Status.UNIMPLEMENTED);
    expect(ran).toBe(runs);
    expect(accessLine(r.requestId)).toHaveLength(1);
    expect(accessLine(r.requestId)[0]).toMatchObject({ method: "/test.T/Unlisted", code: Status.UNIMPLEMENTED });
    expect(await counted("Unlisted", "UNIMPLEMENTED")).toBe(1);
  });

  it("when a unary handler answers at once, throws at once or rejects, then the caller gets the answer or the status, each counted", async () => {
    const ask = (how: string) => call("At", {}, Buffer.from(how));
    const now = await ask("answer");
    expect(now.code).toBe(Status.OK);
    expect(now.raw?.toString()).toBe("now");
    expect(await ask("refuse")).toMatchObject({ code: Status.NOT_FOUND, reason: "NOTHING", details: "no such thing" });
    expect(await ask("bug")).toMatchObject({ code: Status.INTERNAL, details: "internal error" });
    expect(lines.some((l) => l.msg === "unhandled error" && (l.err as { message?: string })?.message === "a bug")).toBe(true);
    expect(await ask("later")).toMatchObject({ code: Status.NOT_FOUND, details: "not later either" });
    expect([await counted("At", "OK"), await counted("At", "NOT_FOUND"), await counted("At", "INTERNAL")]).toEqual([1, 2, 1]);
  });
});
