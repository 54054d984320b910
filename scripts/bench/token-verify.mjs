// Cost of checking an access token: the raw Ed25519 verify (libsodium, node:crypto/OpenSSL), then
// server-kit's verifyToken of a tree over 20,000 distinct tokens, one at a time and 64 at once.
// Usage: node scripts/bench/token-verify.mjs [tree, default this checkout] (build it first: npx tsc -b)
import { createPublicKey, verify } from "node:crypto";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const tree = resolve(process.argv[2] ?? fileURLToPath(new URL("../..", import.meta.url)));
const require = createRequire(`${tree}/server-kit/package.json`);
const { verifyToken, ACCESS_TOKEN_TYPE } = await import(pathToFileURL(`${tree}/server-kit/dist/index.js`).href);
const { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } = await import(pathToFileURL(require.resolve("jose")).href);
const N = 20_000;

const k = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
const jwk = await exportJWK(k.publicKey);
const now = Math.floor(Date.now() / 1000);
const tokens = [];
for (let i = 0; i < N; i++) {
  tokens.push(await new SignJWT({ role: "voter", name: `voter${i}` }).setProtectedHeader({ alg: "EdDSA", kid: "a", typ: ACCESS_TOKEN_TYPE }).setSubject(String(i + 1)).setIssuer("iss").setAudience("aud").setIssuedAt(now).setExpirationTime(now + 900).setJti(`j${i}`).sign(k.privateKey));
}
const signed = tokens.map((t) => {
  const dot = t.lastIndexOf(".");
  return [Buffer.from(t.slice(0, dot)), Buffer.from(t.slice(dot + 1), "base64url")];
});
const time = (label, fn) => {
  const t0 = performance.now();
  let ok = 0;
  for (const [m, s] of signed) ok += fn(m, s) ? 1 : 0;
  console.log(`${label}: ${(((performance.now() - t0) * 1000) / N).toFixed(1)} us/verify (${ok} of ${N} valid)`);
};
try {
  const sodium = require("sodium-native");
  const pk = Buffer.from(jwk.x, "base64url");
  time("raw Ed25519, libsodium", (m, s) => sodium.crypto_sign_verify_detached(s, m, pk));
} catch (err) {
  if (err.code !== "MODULE_NOT_FOUND") throw err;
  console.log("raw Ed25519, libsodium: sodium-native is not installed in this tree");
}
const key = createPublicKey({ key: jwk, format: "jwk" });
time("raw Ed25519, node:crypto (OpenSSL)", (m, s) => verify(null, m, key, s));

const check = { keys: createLocalJWKSet({ keys: [{ ...jwk, kid: "a", alg: "EdDSA", use: "sig" }] }), issuer: "iss", audience: "aud", type: ACCESS_TOKEN_TYPE };
for (const concurrency of [1, 64]) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => { while (next < N) await verifyToken(tokens[next++], check); }));
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  console.log(`verifyToken of ${tree}, ${concurrency} at once: ${Math.round((N / wall) * 1000)} tokens/s, ${((c.user + c.system) / N).toFixed(1)} us CPU per token`);
}
