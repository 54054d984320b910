import { describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jwtVerify } from "jose";
import { assertionTokenSource, ensureServiceKeyFiles, loadServicePrivateKey, loadServicePublicKeys, signServiceAssertion } from "./service-keys.js";

describe("service keys", () => {
  it("when key files are made, then private keys are 0600, kept on a second run, and the JWKS verifies their assertions", async () => {
    const dir = mkdtempSync(join(tmpdir(), "svc-keys-"));
    try {
      const first = ensureServiceKeyFiles(dir);
      const pem = statSync(first.privateKeyFiles["svc-vote"]);
      expect(pem.mode & 0o777).toBe(0o600);
      ensureServiceKeyFiles(dir);
      expect(statSync(first.privateKeyFiles["svc-vote"]).mtimeMs).toBe(pem.mtimeMs);
      const key = loadServicePrivateKey(first.privateKeyFiles["svc-vote"], "KEY");
      const pub = loadServicePublicKeys(first.publicKeysFile, "JWKS");
      const { payload } = await jwtVerify(await signServiceAssertion(key, "svc-vote", "voting-auth"), pub.get("svc-vote")!, { issuer: "svc-vote", audience: "voting-auth" });
      expect(payload).toMatchObject({ sub: "svc-vote", jti: expect.any(String) });
      await expect(jwtVerify(await signServiceAssertion(key, "svc-vote", "voting-auth"), pub.get("svc-tally")!)).rejects.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("when a token is cached, then it is reused until shortly before it expires", async () => {
    let exchanges = 0;
    let expiresAt = Date.now() + 15 * 60_000;
    const source = assertionTokenSource(async () => ({ token: `t${++exchanges}`, expiresAt }), async () => "assertion");
    expect(await Promise.all([source(), source()])).toEqual(["t1", "t1"]);
    expect(await source()).toBe("t1");
    expiresAt = Date.now() + 30_000;
    const soon = assertionTokenSource(async () => ({ token: `s${++exchanges}`, expiresAt: Date.now() + 10 }), async () => "a");
    await soon();
    await new Promise((r) => setTimeout(r, 20));
    expect(await soon()).not.toBe("s2");
  });
});
