// Tokens that must not work: each gets UNAUTHENTICATED and the ballot is not recorded.
import { expect, it } from "vitest";
import { exportJWK, generateKeyPair, SignJWT, type JWK } from "jose";
import { createHmac, createPublicKey, randomUUID, type KeyObject } from "node:crypto";
import { readSealedKeys } from "@voting/server-kit";
import { Status } from "@voting/client";
import { describeOnStores, rowCounts, type System } from "./harness.js";

const b64 = (v: object | string) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

/** The signing key, opened with the key-encryption key that the harness gave the servers. */
async function signingKey(sys: System): Promise<{ kid: string; key: KeyObject; publicJwk: JWK }> {
  const [k] = await readSealedKeys(sys.db, "auth_signing_keys", Buffer.from(sys.env.KEY_ENCRYPTION_KEY, "base64"));
  return { kid: k.kid, key: k.privateKey, publicJwk: { ...(createPublicKey(k.privateKey).export({ format: "jwk" }) as JWK), kid: k.kid, alg: "EdDSA", use: "sig" } };
}

function claims(userId: number, over: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000);
  return { sub: String(userId), role: "voter", name: "x", iss: "voting-auth", aud: "voting", iat: now, exp: now + 600, jti: randomUUID(), ...over };
}

async function signed(sys: System, payload: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  const { kid, key } = await signingKey(sys);
  return new SignJWT(payload).setProtectedHeader({ alg: "EdDSA", kid, typ: "at+jwt", ...header }).sign(key);
}

describeOnStores("token checks", (system) => {
  async function castWith(token: string, expectCode: Status, message: RegExp) {
    const sys = system();
    const cand = await sys.user("candidate");
    const before = await rowCounts(sys);
    const err = await sys
      .client(token)
      .votes.castVote({ ballot: { choices: [cand.id] } })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: expectCode });
    expect((err as { details: string }).details).toMatch(message);
    const after = await rowCounts(sys);
    expect(after.ballots).toBe(before.ballots);
    expect(after.participations).toBe(before.participations);
  }

  it("when a token is properly signed for this audience, then the vote counts (control)", async () => {
    const voter = await system().user("voter");
    const cand = await system().user("candidate");
    const token = await signed(system(), claims(voter.id, { name: voter.username }));
    await expect(system().client(token).votes.castVote({ ballot: { choices: [cand.id] } })).resolves.toBeDefined();
  });

  it("when a token expired within the 60 s leeway, then it still works; beyond it, UNAUTHENTICATED", async () => {
    const now = Math.floor(Date.now() / 1000);
    const voter = await system().user("voter");
    const cand = await system().user("candidate");
    const fresh = await signed(system(), claims(voter.id, { iat: now - 700, exp: now - 30 }));
    await expect(system().client(fresh).votes.castVote({ ballot: { choices: [cand.id] } })).resolves.toBeDefined();
    const other = await system().user("voter");
    await castWith(await signed(system(), claims(other.id, { iat: now - 700, exp: now - 120 })), Status.UNAUTHENTICATED, /token has expired/);
  });

  it("when a token was accepted (and cached) and then passes its expiry and leeway, then it is refused", async () => {
    const voter = await system().user("voter");
    const exp = Math.floor(Date.now() / 1000) - 55; // 5 s left of the 60 s leeway
    const token = await signed(system(), claims(voter.id, { iat: exp - 600, exp }));
    await expect(system().client(token).elections.listElections({ pageSize: 1 })).resolves.toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, (exp + 61) * 1000 - Date.now())));
    await castWith(token, Status.UNAUTHENTICATED, /token has expired/);
  });

  it("when a token is signed by another key under the same kid, then UNAUTHENTICATED", async () => {
    const voter = await system().user("voter");
    const { kid } = await signingKey(system());
    const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const token = await new SignJWT(claims(voter.id)).setProtectedHeader({ alg: "EdDSA", kid, typ: "at+jwt" }).sign(privateKey);
    await castWith(token, Status.UNAUTHENTICATED, /signature is invalid/);
  });

  it("when a token names an unknown kid, then UNAUTHENTICATED", async () => {
    const voter = await system().user("voter");
    const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const token = await new SignJWT(claims(voter.id)).setProtectedHeader({ alg: "EdDSA", kid: "someone-else", typ: "at+jwt" }).sign(privateKey);
    await castWith(token, Status.UNAUTHENTICATED, /unknown key/);
  });

  it("when a signed token's payload is altered, then UNAUTHENTICATED", async () => {
    const voter = await system().user("voter");
    const candidate = await system().user("candidate");
    // A candidate's real token, rewritten to claim the voter role.
    const [h, , s] = candidate.token.split(".");
    const forged = `${h}.${b64(claims(candidate.id, { role: "voter" }))}.${s}`;
    await castWith(forged, Status.UNAUTHENTICATED, /signature is invalid/);
    const [h2, , s2] = voter.token.split(".");
    await castWith(`${h2}.${b64(claims(voter.id + 1))}.${s2}`, Status.UNAUTHENTICATED, /signature is invalid/);
  });

  it("when a token says alg none in any letter case, then UNAUTHENTICATED", async () => {
    const voter = await system().user("voter");
    const { kid } = await signingKey(system());
    for (const alg of ["none", "None", "NONE", "nOnE"]) {
      await castWith(`${b64({ alg, kid, typ: "at+jwt" })}.${b64(claims(voter.id))}.`, Status.UNAUTHENTICATED, /algorithm is not allowed|malformed/);
    }
  });

  it("when a token uses an HMAC algorithm keyed with the public key, then UNAUTHENTICATED", async () => {
    const voter = await system().user("voter");
    const { kid, publicJwk } = await signingKey(system());
    for (const alg of ["HS256", "hs256", "HS512", "Hs384"]) {
      const input = `${b64({ alg, kid, typ: "at+jwt" })}.${b64(claims(voter.id))}`;
      const hash = { HS256: "sha256", HS384: "sha384", HS512: "sha512" }[alg.toUpperCase()]!;
      const mac = createHmac(hash, Buffer.from(publicJwk.x!, "base64url")).update(input).digest("base64url");
      await castWith(`${input}.${mac}`, Status.UNAUTHENTICATED, /algorithm is not allowed/);
    }
  });

  it("when a token is for another audience or issuer, or of another type, then UNAUTHENTICATED", async () => {
    const voter = await system().user("voter");
    await castWith(await signed(system(), claims(voter.id, { aud: "billing" })), Status.UNAUTHENTICATED, /token aud is not accepted/);
    await castWith(await signed(system(), claims(voter.id, { iss: "evil-auth" })), Status.UNAUTHENTICATED, /token iss is not accepted/);
    await castWith(await signed(system(), claims(voter.id), { typ: "JWT" }), Status.UNAUTHENTICATED, /token type is not accepted/);
  });

  it("when a refresh token is used as an access token, or the reverse, then UNAUTHENTICATED", async () => {
    const voter = await system().user("voter");
    const login = await system().client().auth.login({ username: voter.username, password: voter.password });
    await castWith(login.tokens!.refreshToken, Status.UNAUTHENTICATED, /not accepted/);
    await expect(system().client().auth.refreshToken({ refreshToken: login.tokens!.accessToken })).rejects.toMatchObject({ code: Status.UNAUTHENTICATED });
    const refreshed = await system().client().auth.refreshToken({ refreshToken: login.tokens!.refreshToken });
    expect(refreshed.tokens!.accessToken).not.toBe(login.tokens!.accessToken);
  });

  it("when the authorization metadata is not a bearer token, then UNAUTHENTICATED", async () => {
    await castWith("not-a-jwt", Status.UNAUTHENTICATED, /malformed/);
  });
});
