// Access tokens are verified once (libsodium, jwt-eddsa.ts) and then answered from a cache: a cached token must still be
// refused once it expires, once its key leaves the key set, or once its kid names another key.
import { afterEach, describe, expect, it, vi } from "vitest";
import { exportJWK, generateKeyPair, SignJWT, type JWK } from "jose";
import { randomUUID, sign, type KeyObject } from "node:crypto";
import { createTokenVerifier, verifyToken, ACCESS_TOKEN_TYPE } from "./auth.js";
import { createCachedKeySet } from "./jwks.js";

type Key = Awaited<ReturnType<typeof generateKeyPair>>;
const newKey = () => generateKeyPair("EdDSA", { crv: "Ed25519" });
const publicJwk = async (k: Key, kid: string): Promise<JWK> => ({ ...(await exportJWK(k.publicKey)), kid, alg: "EdDSA", use: "sig" });

async function token(k: Key, kid: string, over: { exp?: number; role?: string } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role: over.role ?? "voter", name: "ann" })
    .setProtectedHeader({ alg: "EdDSA", kid, typ: ACCESS_TOKEN_TYPE })
    .setSubject("7")
    .setIssuer("iss")
    .setAudience("aud")
    .setIssuedAt(now)
    .setExpirationTime(over.exp ?? now + 900)
    .setJti(randomUUID())
    .sign(k.privateKey);
}

/** A verifier over a key set that auth-server would publish as `published` says now. */
async function setup(keys: JWK[]) {
  let published = keys;
  const fetches = vi.fn(async () => published);
  const set = createCachedKeySet(fetches, 0);
  const verifier = createTokenVerifier({ keys: set.getKey, issuer: "iss", audience: "aud" });
  return { verifier, fetches, publish: (k: JWK[]) => ((published = k), set.replace(k)) };
}

afterEach(() => vi.useRealTimers());

describe("verified-token cache", () => {
  it("when a token is used again, then it gets the same principal without fetching keys again", async () => {
    const k = await newKey();
    const { verifier, fetches } = await setup([await publicJwk(k, "a")]);
    const t = await token(k, "a");
    const first = await verifier.verifyAccessToken(t);
    expect(first).toEqual({ userId: 7, role: "voter", username: "ann" });
    await expect(verifier.verifyAccessToken(t)).resolves.toEqual(first);
    expect(fetches).toHaveBeenCalledTimes(1);
  });

  it("when a cached token expires (beyond the 60 s leeway), then it is refused", async () => {
    const k = await newKey();
    const { verifier } = await setup([await publicJwk(k, "a")]);
    const now = Date.now();
    const t = await token(k, "a", { exp: Math.floor(now / 1000) + 10 });
    await expect(verifier.verifyAccessToken(t)).resolves.toMatchObject({ userId: 7 });
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(now + 65_000);
    await expect(verifier.verifyAccessToken(t)).resolves.toMatchObject({ userId: 7 });
    vi.setSystemTime(now + 71_000);
    await expect(verifier.verifyAccessToken(t)).rejects.toThrow(/token has expired/);
  });

  it("when the key of a cached token is removed from the key set, then the token is refused at once", async () => {
    const [k, other] = [await newKey(), await newKey()];
    const { verifier, publish } = await setup([await publicJwk(k, "a"), await publicJwk(other, "b")]);
    const t = await token(k, "a");
    await verifier.verifyAccessToken(t);
    publish([await publicJwk(other, "b")]);
    await expect(verifier.verifyAccessToken(t)).rejects.toThrow(/unknown key/);
    await expect(verifier.verifyAccessToken(await token(other, "b"))).resolves.toMatchObject({ userId: 7 });
  });

  it("when the kid of a cached token is given to another key, then the token is refused", async () => {
    const [k, other] = [await newKey(), await newKey()];
    const { verifier, publish } = await setup([await publicJwk(k, "a")]);
    const t = await token(k, "a");
    await verifier.verifyAccessToken(t);
    publish([await publicJwk(other, "a")]);
    await expect(verifier.verifyAccessToken(t)).rejects.toThrow(/signature is invalid/);
  });

  it("when the same keys are published again, then cached tokens stay valid", async () => {
    const k = await newKey();
    const jwk = await publicJwk(k, "a");
    const { verifier, publish } = await setup([jwk]);
    const t = await token(k, "a");
    await verifier.verifyAccessToken(t);
    publish([{ ...jwk }]);
    await expect(verifier.verifyAccessToken(t)).resolves.toMatchObject({ userId: 7 });
  });

  it("when more tokens are verified than the cache holds, then the oldest are verified again and still pass or fail on their own", async () => {
    const k = await newKey();
    const jwk = await publicJwk(k, "a");
    const verifier = createTokenVerifier({ keys: createCachedKeySet(async () => [jwk]).getKey, issuer: "iss", audience: "aud", cacheSize: 2 });
    const tokens = [await token(k, "a"), await token(k, "a", { role: "admin" }), await token(k, "a", { role: "candidate" })];
    for (const t of tokens) await verifier.verifyAccessToken(t);
    await expect(verifier.verifyAccessToken(tokens[0])).resolves.toMatchObject({ role: "voter" });
    await expect(verifier.verifyAccessToken(`${tokens[1]}x`)).rejects.toThrow(/signature is invalid|malformed/);
  });
});

describe("token verification", () => {
  const check = async (k: Key) => ({ keys: createCachedKeySet(async () => [await publicJwk(k, "a")]).getKey, issuer: "iss", audience: "aud", type: ACCESS_TOKEN_TYPE });

  it("when claims are missing or of the wrong type, then the token is refused and says which", async () => {
    const k = await newKey();
    const now = Math.floor(Date.now() / 1000);
    const sign = (payload: Record<string, unknown>) => new SignJWT(payload).setProtectedHeader({ alg: "EdDSA", kid: "a", typ: "at+jwt" }).sign(k.privateKey);
    const good = { sub: "7", role: "voter", name: "ann", iss: "iss", aud: ["other", "aud"], iat: now, exp: now + 60, jti: "j" };
    await expect(verifyToken(await sign(good), await check(k))).resolves.toMatchObject({ userId: 7, jti: "j" });
    await expect(verifyToken(await sign({ ...good, jti: undefined }), await check(k))).rejects.toThrow(/token jti is not accepted/);
    await expect(verifyToken(await sign({ ...good, exp: "soon" }), await check(k))).rejects.toThrow(/token exp is not accepted/);
    await expect(verifyToken(await sign({ ...good, nbf: now + 3600 }), await check(k))).rejects.toThrow(/token nbf is not accepted/);
    await expect(verifyToken(await sign({ ...good, aud: ["other"] }), await check(k))).rejects.toThrow(/token aud is not accepted/);
    await expect(verifyToken(await sign({ ...good, sub: "x" }), await check(k))).rejects.toThrow(/claims are malformed/);
  });

  it("when a token is not three base64url segments of JSON objects, then it is malformed", async () => {
    const k = await newKey();
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
    // A payload that is not an object, validly signed.
    const input = `${b64({ alg: "EdDSA", kid: "a", typ: "at+jwt" })}.${b64([1])}`;
    const arrayPayload = `${input}.${sign(null, Buffer.from(input), k.privateKey as KeyObject).toString("base64url")}`;
    for (const t of ["", "a.b", "a.b.c.d", arrayPayload, `${b64("x")}.${b64({})}.AA`, `${b64({ alg: "EdDSA", kid: "a" })}.${b64({})}.A+A`]) {
      await expect(verifyToken(t, await check(k))).rejects.toThrow(/malformed/);
    }
  });
});
