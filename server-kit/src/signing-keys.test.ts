import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { sql } from "kysely";
import { openDatabase, type Database } from "./db.js";
import { createLogger } from "./logger.js";
import { openKeyRing, parseKek, parseKeyFile, readSealedKeys, rotateSigningKey, type KeyRingOptions } from "./signing-keys.js";

const log = createLogger("test", "silent");
let db: Database<any>;
const kek = randomBytes(32);

beforeEach(async () => {
  db = openDatabase<any>("sqlite::memory:");
  for (const t of ["auth_signing_keys", "tally_signing_keys"]) {
    await sql`create table ${sql.table(t)} (kid varchar(64) primary key, created_at bigint not null, sealed_key text)`.execute(db.kysely);
  }
});
afterEach(() => db.close());

const ring = (over: Partial<KeyRingOptions> = {}) =>
  openKeyRing({ db, table: "auth_signing_keys", fileSetting: "AUTH_SIGNING_KEY_FILE", keyFile: "", kek, reloadMs: 60_000, rotateHours: 0, retainSeconds: 3600, log, ...over });
const rows = async (t = "auth_signing_keys") => (await sql<{ kid: string; created_at: number; sealed_key: string }>`select * from ${sql.table(t)} order by created_at`.execute(db.kysely)).rows;

describe("sealed signing keys", () => {
  it("when the store is empty, then one key is made, sealed, and signs", async () => {
    const r = await ring();
    const [row] = await rows();
    expect(r.signer().kid).toBe(row.kid);
    expect(row.sealed_key).toMatch(/^v1\./);
    expect(r.publicJwks()).toEqual([expect.objectContaining({ kid: row.kid, kty: "OKP", crv: "Ed25519", alg: "EdDSA" })]);
    expect(r.publicJwks()[0]).not.toHaveProperty("d");
    r.close();
  });

  it("when a sealed key is copied under another kid, another time or into another table, then it does not open there", async () => {
    await rotateSigningKey(db, "auth_signing_keys", kek);
    const [row] = await rows();
    await sql`insert into auth_signing_keys (kid, created_at, sealed_key) values ('other-kid', ${row.created_at}, ${row.sealed_key})`.execute(db.kysely);
    await sql`insert into auth_signing_keys (kid, created_at, sealed_key) values (${row.kid + "x"}, ${row.created_at + 10}, ${row.sealed_key})`.execute(db.kysely);
    await sql`insert into tally_signing_keys (kid, created_at, sealed_key) values (${row.kid}, ${row.created_at}, ${row.sealed_key})`.execute(db.kysely);
    expect((await readSealedKeys(db, "auth_signing_keys", kek)).map((k) => k.kid)).toEqual([row.kid]);
    expect(await readSealedKeys(db, "tally_signing_keys", kek)).toEqual([]);
    const r = await ring();
    expect(r.publicJwks().map((k) => k.kid)).toEqual([row.kid]);
    r.close();
  });

  it("when the key-encryption key opens none of the stored keys, then opening refuses and adds nothing", async () => {
    await rotateSigningKey(db, "auth_signing_keys", kek);
    await expect(ring({ kek: randomBytes(32) })).rejects.toThrow(/KEY_ENCRYPTION_KEY does not open any of the 1 signing keys in auth_signing_keys/);
    expect(await rows()).toHaveLength(1);
  });

  it("when the newest key is older than the rotation age, then a new key signs and the old one stays published", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() - 2 * 3_600_000);
    const old = await rotateSigningKey(db, "auth_signing_keys", kek);
    vi.useRealTimers();
    const r = await ring({ rotateHours: 1 });
    expect(r.signer().kid).not.toBe(old.kid);
    expect(r.publicJwks().map((k) => k.kid)).toEqual([r.signer().kid, old.kid]);
    expect(await rows()).toHaveLength(2);
    r.close();
  });

  it("when a key's successor is older than the retention, then the key is no longer published and its row is removed", async () => {
    await rotateSigningKey(db, "auth_signing_keys", kek);
    await new Promise((r) => setTimeout(r, 5));
    await rotateSigningKey(db, "auth_signing_keys", kek);
    const kept = await ring({ retainSeconds: Infinity });
    expect(kept.publicJwks()).toHaveLength(2);
    kept.close();
    const pruned = await ring({ retainSeconds: 0 });
    expect(pruned.publicJwks()).toHaveLength(1);
    expect(await rows()).toHaveLength(1);
    pruned.close();
  });
});

describe("key files and settings", () => {
  const pem = () => generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }).toString();

  it("when a file holds several keys, then they are read in order with thumbprint kids", async () => {
    const keys = await parseKeyFile(pem() + "\n" + pem(), "k.pem");
    expect(keys).toHaveLength(2);
    expect(keys[0].kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(keys[0].kid).not.toBe(keys[1].kid);
  });

  it("when a file holds no key or another kind of key, then it is refused with the file named", async () => {
    await expect(parseKeyFile("hello", "k.pem")).rejects.toThrow(/k.pem holds no PKCS#8 PEM private key/);
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    await expect(parseKeyFile(ec, "k.pem")).rejects.toThrow(/key 1 of k.pem is ec, not Ed25519/);
  });

  it("when a key-encryption key is not 32 bytes of base64, then it is refused", () => {
    expect(parseKek(randomBytes(32).toString("base64"))).toHaveLength(32);
    expect(() => parseKek(randomBytes(16).toString("base64"))).toThrow(/32 random bytes/);
    expect(() => parseKek("not base64 at all")).toThrow(/32 random bytes/);
  });
});
