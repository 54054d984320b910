// The libsodium JWT check against jose's jwtVerify, which it replaced for speed: on the same
// tokens it must never accept what jose refuses, and must agree with jose on every token an
// issuer could produce (it is stricter only where jwt-eddsa.ts says so).
import { afterEach, describe, expect, it, vi } from "vitest";
import fc from "fast-check";
import { createLocalJWKSet, errors as joseErrors, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import { generateKeyPairSync, sign } from "node:crypto";
import { JwtRefused, verifyEdDSAJwt, type JwtCheck } from "./jwt-eddsa.js";

const b64 = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");
const now = () => Math.floor(Date.now() / 1000);

async function fixture() {
  const k = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const other = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const keys = createLocalJWKSet({ keys: [{ ...(await exportJWK(k.publicKey)), kid: "a", alg: "EdDSA", use: "sig" }] } as JSONWebKeySet);
  const check: JwtCheck = { keys, issuer: "iss", audience: "aud", type: "at+jwt", clockToleranceSeconds: 60, requiredClaims: ["sub", "exp", "iat", "jti"] };
  const good = () => ({ sub: "7", role: "voter", name: "ann", iss: "iss", aud: "aud", iat: now(), exp: now() + 900, jti: "j" });
  const signed = (payload: Record<string, unknown>, header: Record<string, unknown> = { alg: "EdDSA", kid: "a", typ: "at+jwt" }, key = k.privateKey) =>
    new SignJWT(payload).setProtectedHeader(header as never).sign(key);
  /** Signs any header and payload text as given, without jose's checks. */
  const raw = (header: string, payload: string, key = k.privateKey) => {
    const input = `${b64(header)}.${b64(payload)}`;
    return `${input}.${sign(null, Buffer.from(input), key as never).toString("base64url")}`;
  };
  return { k, other, keys, check, good, signed, raw };
}

type F = Awaited<ReturnType<typeof fixture>>;
const ours = (f: F, t: string) => verifyEdDSAJwt(t, f.check).then(
  () => true,
  () => false,
);
const jose = (f: F, t: string, keys: JWTVerifyGetKey = f.keys) =>
  jwtVerify(t, keys, { algorithms: ["EdDSA"], issuer: "iss", audience: "aud", typ: "at+jwt", clockTolerance: 60, requiredClaims: ["sub", "exp", "iat", "jti"] }).then(
    () => true,
    () => false,
  );
/** The outcome as auth.ts tells it to callers (expired and invalid are told apart: a client refreshes on the first). */
const outcome = (err: unknown): string => {
  if (err instanceof JwtRefused) return err.claim ? `${err.kind}:${err.claim}` : err.kind;
  if (err instanceof joseErrors.JWTExpired) return "expired";
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `claim:${err.claim}`;
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return "algorithm";
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return "signature";
  if (err instanceof joseErrors.JWKSNoMatchingKey) return "no key";
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) return "malformed";
  return `unexpected ${String(err)}`;
};
const oursTold = (f: F, t: string) => verifyEdDSAJwt(t, f.check).then(({ payload }) => JSON.stringify(payload), outcome);
const joseTold = (f: F, t: string) =>
  jwtVerify(t, f.keys, { algorithms: ["EdDSA"], issuer: "iss", audience: "aud", typ: "at+jwt", clockTolerance: 60, requiredClaims: ["sub", "exp", "iat", "jti"] }).then(({ payload }) => JSON.stringify(payload), outcome);

afterEach(() => vi.useRealTimers());

describe("EdDSA JWT verification with libsodium", () => {
  it("when a token is issued as auth-server issues them, then it verifies with its claims, header and key", async () => {
    const f = await fixture();
    const t = await f.signed(f.good());
    const { payload, protectedHeader, key } = await verifyEdDSAJwt(t, f.check);
    expect(payload).toMatchObject({ sub: "7", name: "ann", jti: "j" });
    expect(protectedHeader).toEqual({ alg: "EdDSA", kid: "a", typ: "at+jwt" });
    expect(key).toBe(await f.keys({ alg: "EdDSA", kid: "a" }, { payload: "", signature: "" }));
  });

  it("when any one character of a good token is changed, then it is refused, as jose refuses it", async () => {
    const f = await fixture();
    const t = await f.signed(f.good());
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ";
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: t.length - 1 }), fc.constantFrom(...alphabet), async (at, c) => {
        const bad = t.slice(0, at) + c + t.slice(at + 1);
        if (bad === t) return;
        const [a, b] = [await ours(f, bad), await jose(f, bad)];
        // A change in the last character can leave the signature's bytes unchanged (its unused low bits): jose accepts that, we do not.
        expect(a && !b).toBe(false);
        if (at < t.length - 1) expect(a).toBe(b);
      }),
      { numRuns: 400 },
    );
  });

  it("when claims and header vary as an issuer might set them, then it agrees with jose on every one", async () => {
    const f = await fixture();
    // One clock for both, so that no second ticks between the two checks of a token near its expiry.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    const n = now();
    // Mostly what an issuer writes, sometimes anything else: both outcomes must occur often.
    const usually = <T>(good: T, other: fc.Arbitrary<T>) => fc.oneof({ arbitrary: fc.constant(good), weight: 6 }, { arbitrary: other, weight: 1 });
    const anything = fc.oneof(fc.constant(undefined), fc.string({ maxLength: 4 }), fc.integer({ min: n - 200, max: n + 200 }), fc.array(fc.constantFrom("aud", "x"), { maxLength: 2 }));
    const seen = new Set<boolean>();
    await fc.assert(
      fc.asyncProperty(
        fc.record({ iss: usually<unknown>("iss", fc.constantFrom("ISS", undefined)), aud: usually<unknown>("aud", anything), iat: usually<unknown>(n, anything), exp: usually<unknown>(n + 900, anything), nbf: usually<unknown>(undefined, anything), sub: usually<unknown>("7", anything), jti: usually<unknown>("j", anything) }),
        fc.record({ alg: usually("EdDSA", fc.constantFrom("eddsa", "Ed25519", "HS256", "none", "")), typ: usually<string | undefined>("at+jwt", fc.constantFrom("AT+JWT", "application/at+jwt", "JWT", "refresh+jwt", undefined)), kid: usually("a", fc.constant("b")) }),
        usually(false, fc.constant(true)),
        async (claims, header, wrongKey) => {
          const payload = JSON.stringify(Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined)));
          const head = JSON.stringify(Object.fromEntries(Object.entries(header).filter(([, v]) => v !== undefined)));
          const t = f.raw(head, payload, wrongKey ? f.other.privateKey : f.k.privateKey);
          const theirs = await joseTold(f, t);
          // The same payload when both accept; the same refusal, down to the claim, when both refuse.
          expect(await oursTold(f, t)).toBe(theirs);
          seen.add(theirs.startsWith("{"));
        },
      ),
      { numRuns: 300 },
    );
    expect(seen).toEqual(new Set([true, false]));
  });

  it("when a token is badly formed, then it is refused as malformed, before any key is looked up", async () => {
    const f = await fixture();
    let lookups = 0;
    const check = { ...f.check, keys: ((h, t) => (lookups++, f.keys(h, t))) as JWTVerifyGetKey };
    const sig = "A".repeat(86);
    const bad = ["", "a.b", "a.b.c.d", `${b64({ alg: "EdDSA" })}..${sig}`, `${b64([1])}.${b64({})}.${sig}`, `${b64("not json")}.${b64({})}.${sig}`, `${b64({ alg: "EdDSA", crit: ["b64"], b64: false })}.${b64({})}.${sig}`,
      `${b64({ alg: 1 })}.${b64({})}.${sig}`, ` ${b64({ alg: "EdDSA" })}.${b64({})}.${sig}`, `${b64({ alg: "EdDSA" })}=.${b64({})}.${sig}`, `${Buffer.from([0x7b, 0xff, 0x7d]).toString("base64url")}.${b64({})}.${sig}`];
    for (const t of bad) await expect(verifyEdDSAJwt(t, check), t).rejects.toMatchObject({ kind: "malformed" });
    expect(lookups).toBe(0);
  });

  it("when a validly signed payload is not a JSON object or a date is not a finite number, then it is refused", async () => {
    const f = await fixture();
    const head = JSON.stringify({ alg: "EdDSA", kid: "a", typ: "at+jwt" });
    for (const p of ["[1]", "7", "null", '"x"']) await expect(verifyEdDSAJwt(f.raw(head, p), f.check)).rejects.toMatchObject({ kind: "malformed" });
    const g = JSON.stringify(f.good());
    // 1e999 parses to Infinity: jose would take it as a token that never expires.
    await expect(verifyEdDSAJwt(f.raw(head, g.replace(/"exp":\d+/, '"exp":1e999')), f.check)).rejects.toMatchObject({ kind: "claim", claim: "exp" });
    await expect(verifyEdDSAJwt(f.raw(head, g.replace(/"iat":\d+/, '"iat":"now"')), f.check)).rejects.toMatchObject({ kind: "claim", claim: "iat" });
  });

  it("when the expiry is within the 60 s leeway it passes, and from its end the token has expired", async () => {
    const f = await fixture();
    // One clock for signing and checking: a second may not tick between them.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    const n = now();
    await expect(verifyEdDSAJwt(await f.signed({ ...f.good(), exp: n - 59 }), f.check)).resolves.toBeDefined();
    await expect(verifyEdDSAJwt(await f.signed({ ...f.good(), exp: n - 60 }), f.check)).rejects.toMatchObject({ kind: "expired" });
    await expect(verifyEdDSAJwt(await f.signed({ ...f.good(), nbf: n + 60 }), f.check)).resolves.toBeDefined();
    await expect(verifyEdDSAJwt(await f.signed({ ...f.good(), nbf: n + 61 }), f.check)).rejects.toMatchObject({ kind: "claim", claim: "nbf" });
  });

  it("when the key set hands out a key that is not an Ed25519 public key, then the token is refused", async () => {
    const f = await fixture();
    const t = await f.signed(f.good());
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey;
    const ed = generateKeyPairSync("ed25519").privateKey;
    for (const key of [rsa, ed]) await expect(verifyEdDSAJwt(t, { ...f.check, keys: async () => key })).rejects.toMatchObject({ kind: "algorithm" });
    await expect(verifyEdDSAJwt(t, { ...f.check, keys: async () => new Uint8Array(32) })).rejects.toMatchObject({ kind: "malformed" });
  });

  it("when the signature is written in a second base64url form of the same bytes, then it is refused", async () => {
    const f = await fixture();
    const t = await f.signed(f.good());
    // 64 bytes are 85⅓ characters: the last one carries 4 unused bits, so 16 spellings decode alike.
    const last = t.at(-1)!;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const twin = alphabet[alphabet.indexOf(last) ^ 1];
    const t2 = t.slice(0, -1) + twin;
    expect(Buffer.from(t2.split(".")[2], "base64url")).toEqual(Buffer.from(t.split(".")[2], "base64url"));
    expect(await jose(f, t2)).toBe(true);
    await expect(verifyEdDSAJwt(t2, f.check)).rejects.toMatchObject({ kind: "signature" });
  });

  it("when a signed header or payload has a stray last character that base64url decoding would drop, then it is refused, as jose refuses it", async () => {
    const f = await fixture();
    // Header and claims padded to whole 4-character groups, so that one character more is a stray one.
    let header = { alg: "EdDSA", kid: "a", typ: "at+jwt", x: "" };
    while (b64(header).length % 4 !== 0) header = { ...header, x: `${header.x}x` };
    let claims = JSON.stringify(f.good());
    while (b64(claims).length % 4 !== 0) claims = claims.replace('"ann', '"ann ');
    for (const [h, p] of [[b64(header), `${b64(claims)}Q`], [`${b64(header)}Q`, b64(claims)]]) {
      const input = `${h}.${p}`;
      const t = `${input}.${sign(null, Buffer.from(input), f.k.privateKey as never).toString("base64url")}`;
      expect(await jose(f, t)).toBe(false);
      await expect(verifyEdDSAJwt(t, f.check)).rejects.toMatchObject({ kind: "malformed" });
    }
  });

  it("when the key set hands out an Ed25519 CryptoKey that may not verify, then the token is refused, as jose refuses it", async () => {
    const f = await fixture();
    const t = await f.signed(f.good());
    const jwk = await exportJWK(f.k.publicKey);
    const noVerify = await crypto.subtle.importKey("jwk", jwk, { name: "Ed25519" }, true, []);
    expect(await jose(f, t, async () => noVerify)).toBe(false);
    await expect(verifyEdDSAJwt(t, { ...f.check, keys: async () => noVerify })).rejects.toMatchObject({ kind: "algorithm" });
  });

  it("when several required claims are missing, then the one named is the one jose names", async () => {
    const f = await fixture();
    const { sub: _s, jti: _j, ...rest } = f.good();
    await expect(verifyEdDSAJwt(await f.signed(rest), f.check)).rejects.toMatchObject({ kind: "claim", claim: "jti" });
  });
});
