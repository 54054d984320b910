// Signing keys that the database cannot give away: no private key in any table, an insider who
// rewrites the store cannot re-sign the result or mint tokens, keys rotate without a restart,
// and a wrong key-encryption key stops the start instead of making new keys.
import { afterAll, expect, it } from "vitest";
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from "jose";
import mysql from "mysql2/promise";
import { sql } from "kysely";
import { createVotingClient, Status, voteV1 } from "@voting/client";
import { ballotCommitment, chainHash, choicesKey, parseChoicesKey } from "@voting/election-core";
import { startAuthServer, readAuthConfig } from "@voting/auth-server";
import { startTallyServer, readTallyConfig } from "@voting/tally-server";
import { createLogger, ensureServiceKeyFiles, migrate, openDatabase, readSealedKeys, rotateSigningKey, type Database } from "@voting/server-kit";
import { authMigrations } from "../auth-server/src/db/migrations.js";
import { cliEnv, describeOnStores, runCli, eventually, mysqlServerUrl, stores, uniqueName, type Store, type System } from "./harness.js";

const dir = mkdtempSync(join(tmpdir(), "voting-keys-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const log = createLogger("test", "silent");

/** An admin access token as an insider would mint it with `key`. */
function forgedAdminToken(key: KeyObject | CryptoKey | Uint8Array, kid: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role: "admin", name: "admin" })
    .setProtectedHeader({ alg: "EdDSA", kid, typ: "at+jwt" })
    .setSubject("1")
    .setIssuer("voting-auth")
    .setAudience("voting")
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .setJti(randomUUID())
    .sign(key);
}

// One config directory per system: the CLI pins each log's key on first use.
const voting = (sys: System, ...args: string[]) => runCli(args, cliEnv(sys, join(dir, "cfg", sys.addrs.vote.replace(/\W/g, "-"))));

const pemOf = (k: KeyObject) => k.export({ format: "pem", type: "pkcs8" }).toString();
const newPem = () => pemOf(generateKeyPairSync("ed25519").privateKey);

/** Every usual encoding of a private key, to look for in the store. */
function encodingsOf(key: KeyObject): string[] {
  const pem = pemOf(key);
  const seed = Buffer.from(key.export({ format: "jwk" }).d!, "base64url");
  const der = key.export({ format: "der", type: "pkcs8" });
  return [pem, pem.split("\n")[1], ...[seed, der].flatMap((b) => [b.toString("hex"), b.toString("base64"), b.toString("base64url"), b.toString("base64").replace(/=+$/, ""), b.toString("latin1")])];
}

async function tablesOf(db: Database<any>): Promise<string[]> {
  const { rows } =
    db.dialect === "sqlite"
      ? await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db.kysely)
      : await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = database()`.execute(db.kysely);
  return rows.map((r) => r.name);
}

async function columnsOf(db: Database<any>, table: string): Promise<string[]> {
  if (db.dialect === "sqlite") return (await sql<{ name: string }>`select name from pragma_table_info(${table})`.execute(db.kysely)).rows.map((r) => r.name);
  return (await sql<{ name: string }>`select column_name as name from information_schema.columns where table_schema = database() and table_name = ${table}`.execute(db.kysely)).rows.map((r) => r.name);
}

/** Every cell of every table as text (binary cells in hex, base64 and latin1 too). */
async function everyCell(db: Database<any>): Promise<{ at: string; text: string }[]> {
  const out: { at: string; text: string }[] = [];
  for (const table of await tablesOf(db)) {
    const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(db.kysely);
    for (const row of rows) {
      for (const [col, v] of Object.entries(row)) {
        if (v === null || v === undefined) continue;
        const texts = Buffer.isBuffer(v) || v instanceof Uint8Array ? [Buffer.from(v).toString("hex"), Buffer.from(v).toString("base64"), Buffer.from(v).toString("latin1")] : [String(v)];
        for (const text of texts) out.push({ at: `${table}.${col}`, text });
      }
    }
  }
  return out;
}

async function expectNoPrivateKeyIn(db: Database<any>, keys: KeyObject[]) {
  const cells = await everyCell(db);
  expect(cells.length).toBeGreaterThan(0);
  for (const { at, text } of cells) {
    expect(text, at).not.toMatch(/PRIVATE KEY/);
    expect(text, at).not.toMatch(/"d"\s*:/);
    for (const key of keys) {
      for (const form of encodingsOf(key)) {
        const found = /^[0-9a-f]+$/.test(form) ? text.toLowerCase().includes(form) : text.includes(form);
        expect(found ? `${form} found` : "", at).toBe("");
      }
    }
  }
}

/** A closed IRV election with 12 ballots, counted to the end and signed. */
async function closedElection(sys: System) {
  const admin = sys.client(await sys.adminToken());
  const { election } = await admin.elections.createElection({ title: uniqueName("Keys"), method: voteV1.BallotMethod.BALLOT_METHOD_IRV, candidates: ["A", "B", "C"], resultsWhileOpen: true });
  const id = election!.id;
  await admin.elections.openElection({ electionId: id });
  const voters = await Promise.all(Array.from({ length: 12 }, () => sys.user("voter")));
  await Promise.all(voters.map((v, i) => sys.client(v.token).votes.castVote({ electionId: id, ballot: { choices: [1 + (i % 3), 1 + ((i + 1) % 3)] } })));
  await admin.elections.closeElection({ electionId: id });
  await eventually(async () => ((await sys.client().tally.getResults({ electionId: id })).result!.final ? true : undefined));
  return id;
}

/** What a database insider does to plant a key: a row in every key table, filled as its columns suggest. */
async function plantKey(db: Database<any>, kid: string, publicJwk: JWK, privateJwk: JWK) {
  for (const table of (await tablesOf(db)).filter((t) => /key/i.test(t) && !/migration/i.test(t))) {
    const row: Record<string, unknown> = {};
    for (const col of await columnsOf(db, table)) {
      row[col] = /kid/.test(col) ? kid : /created|_at$/.test(col) ? Date.now() + 1_000 : /public/.test(col) ? JSON.stringify(publicJwk) : /private/.test(col) ? JSON.stringify(privateJwk) : randomBytes(64).toString("base64url");
    }
    await db.kysely.insertInto(table).values(row).execute().catch(() => undefined);
  }
}

async function insiderKey() {
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const kid = `insider-${randomBytes(4).toString("hex")}`;
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" }, privateJwk: { ...(await exportJWK(privateKey)), kid, alg: "EdDSA" } };
}

const kek = (sys: System) => Buffer.from(sys.env.KEY_ENCRYPTION_KEY, "base64");
const kidOf = (token: string) => decodeProtectedHeader(token).kid;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeOnStores(
  "signing keys sealed with a key-encryption key",
  (system) => {
    it("when the servers have signed tokens and a statement, then no column of any table holds a private key", async () => {
      const sys = system();
      await closedElection(sys);
      const auth = await readSealedKeys(sys.db, "auth_signing_keys", kek(sys));
      const tally = await readSealedKeys(sys.db, "tally_signing_keys", kek(sys));
      // The keys the test decrypted are the ones the servers publish.
      const published = [...(await sys.client().auth.getJwks()).keys, ...(await sys.client().tally.getJwks()).keys].map((k) => k.kid).sort();
      expect([...auth, ...tally].map((k) => k.kid).sort()).toEqual(published);
      await expectNoPrivateKeyIn(sys.db, [...auth, ...tally].map((k) => k.privateKey));
    });

    it("when an insider rewrites a ballot, the chain, counts and progress and re-signs the statement with a planted key, then audit fails on the signature", async () => {
      const sys = system();
      const id = await closedElection(sys);
      const good = await voting(sys, "audit", "--election", String(id));
      expect(good.code).toBe(0);

      // Rewrite ballot 5 and recompute every later hash, the head, and the tally's multiset and progress.
      const { genesis_hash } = await sys.db.kysely.selectFrom("elections").select("genesis_hash").where("id", "=", id).executeTakeFirstOrThrow();
      const rows = await sys.db.kysely.selectFrom("ballots").selectAll().where("election_id", "=", id).orderBy("seq").execute();
      let hash = genesis_hash as string;
      const multiset = new Map<string, number>();
      for (const r of rows) {
        const choices = Number(r.seq) === 5 ? [3] : parseChoicesKey(r.choices);
        // The insider opens a new commitment with the stored salt, so every entry checks out.
        const commitment = ballotCommitment(r.salt, choices);
        hash = chainHash(2, hash, { electionId: id, seq: Number(r.seq), trackingCode: r.tracking_code, commitment, choices, salt: r.salt });
        await sys.db.kysely.updateTable("ballots").set({ choices: choicesKey(choices), commitment, hash }).where("election_id", "=", id).where("seq", "=", r.seq).execute();
        multiset.set(choicesKey(choices), (multiset.get(choicesKey(choices)) ?? 0) + 1);
      }
      await sys.db.kysely.updateTable("elections").set({ head_hash: hash }).where("id", "=", id).execute();
      await sys.db.kysely.updateTable("tally_progress").set({ last_hash: hash }).where("election_id", "=", id).execute();
      await sys.db.kysely.deleteFrom("tally_ballots").where("election_id", "=", id).execute();
      for (const [choices, n] of multiset) {
        await sys.db.kysely.insertInto("tally_ballots").values({ election_id: id, ballot_key: createHash("sha256").update(choices).digest("hex"), choices, n_ballots: n }).execute();
      }

      // A statement over the rewritten data, signed by the insider's own key, planted in the store.
      const me = await insiderKey();
      await plantKey(sys.db, me.kid, me.publicJwk, me.privateJwk);
      await sys.restartTally();
      const republished = (await sys.client().tally.getResults({ electionId: id })).result!;
      const old = decodeJwt(republished.statement);
      const forged = await new SignJWT({ ...old, log_head_hash: hash, winners: republished.winners })
        .setProtectedHeader({ alg: "EdDSA", kid: me.kid, typ: "voting-result+jwt" })
        .sign(me.privateKey);
      await sys.db.kysely.updateTable("tally_statements").set({ statement: forged }).where("election_id", "=", id).execute();
      await sys.restartTally();

      const r = await voting(sys, "audit", "--election", String(id));
      expect(r.stderr).toMatch(new RegExp(`signature of the final result statement of election ${id} does not verify`));
      expect(r.code).toBe(1);
    });

    it("when an insider signs an admin token with any key found in or planted into the store, then no server accepts it", async () => {
      const sys = system();
      const me = await insiderKey();
      await plantKey(sys.db, me.kid, me.publicJwk, me.privateJwk);
      const keys: { kid: string; key: CryptoKey | Uint8Array }[] = [{ kid: me.kid, key: me.privateKey }];
      for (const { text } of await everyCell(sys.db)) {
        try {
          const jwk = JSON.parse(text) as JWK;
          if (jwk.d) keys.push({ kid: jwk.kid!, key: await importJWK(jwk, "EdDSA") });
        } catch {
          // not a JWK
        }
      }
      await sleep(1_000); // several reloads of the key set
      for (const { kid, key } of keys) {
        const token = await forgedAdminToken(key, kid);
        const c = sys.client(token);
        await expect(c.elections.createElection({ title: "forged", method: voteV1.BallotMethod.BALLOT_METHOD_PLURALITY, candidates: ["A", "B"] })).rejects.toMatchObject({ code: Status.UNAUTHENTICATED });
        await expect(c.auth.listUsers({})).rejects.toMatchObject({ code: Status.UNAUTHENTICATED });
      }
    });

    it("when a new key is sealed into the store, then new tokens carry it, older tokens still verify, and both keys are published, without a restart", async () => {
      const sys = system();
      const before = await sys.adminToken();
      const added = await rotateSigningKey(sys.db, "auth_signing_keys", kek(sys));
      const after = await eventually(async () => {
        const t = await sys.adminToken();
        return kidOf(t) === added.kid ? t : undefined;
      });
      expect(kidOf(before)).not.toBe(added.kid);
      expect((await sys.client().auth.getJwks()).keys.map((k) => k.kid)).toEqual(expect.arrayContaining([kidOf(before), added.kid]));
      const create = (token: string) => sys.client(token).elections.createElection({ title: uniqueName("Rot"), method: voteV1.BallotMethod.BALLOT_METHOD_PLURALITY, candidates: ["A", "B"] });
      await expect(create(before)).resolves.toBeDefined();
      await eventually(() => create(after), 15_000, "vote-server accepts the new key");

      const tallyBefore = (await sys.client().tally.getJwks()).keys.map((k) => k.kid);
      const statementKid = await rotateSigningKey(sys.db, "tally_signing_keys", kek(sys));
      await eventually(async () => ((await sys.client().tally.getJwks()).keys.some((k) => k.kid === statementKid.kid) ? true : undefined));
      expect((await sys.client().tally.getJwks()).keys.map((k) => k.kid)).toEqual([statementKid.kid, ...tallyBefore]);
      const id = await closedElection(sys);
      expect(kidOf((await sys.client().tally.getResults({ electionId: id })).result!.statement)).toBe(statementKid.kid);
    });

    it("when a server starts on this store with another key-encryption key, or with none, then it refuses with a clear message", async () => {
      const sys = system();
      const other = randomBytes(32).toString("base64");
      await expect(startAuthServer(readAuthConfig({ ...sys.env, AUTH_PORT: "0", KEY_ENCRYPTION_KEY: other }), log)).rejects.toThrow(/KEY_ENCRYPTION_KEY.*auth_signing_keys/s);
      await expect(startTallyServer(readTallyConfig({ ...sys.env, TALLY_PORT: "0", KEY_ENCRYPTION_KEY: other }), log)).rejects.toThrow(/KEY_ENCRYPTION_KEY.*tally_signing_keys/s);
      await expect(startAuthServer(readAuthConfig({ ...sys.env, AUTH_PORT: "0", KEY_ENCRYPTION_KEY: "" }), log)).rejects.toThrow(/AUTH_SIGNING_KEY_FILE or KEY_ENCRYPTION_KEY/);
      // The store is untouched: the right key still opens every row, and nothing was added.
      expect((await readSealedKeys(sys.db, "auth_signing_keys", Buffer.from(other, "base64")).catch(() => [])).length).toBe(0);
      expect((await sys.client().auth.getJwks()).keys.length).toBe((await readSealedKeys(sys.db, "auth_signing_keys", kek(sys))).length);
    });
  },
  { SIGNING_KEY_RELOAD_MS: "200" },
);

// Key files, written before the systems start; each store's system reads the same files.
const authPems = [newPem(), newPem()];
const tallyPem = newPem();
const logPem = newPem();
const authFile = join(dir, "auth.pem");
const tallyFile = join(dir, "tally.pem");
const logFile = join(dir, "log.pem");
writeFileSync(authFile, authPems[0], { mode: 0o600 });
writeFileSync(tallyFile, tallyPem, { mode: 0o600 });
writeFileSync(logFile, logPem, { mode: 0o600 });
const thumb = async (pem: string) => calculateJwkThumbprint(createPrivateKey(pem).export({ format: "jwk" }) as JWK);

describeOnStores(
  "signing keys from key files",
  (system) => {
    it("when the servers sign with keys from files, then they publish exactly those keys and no table holds them", async () => {
      const sys = system();
      await closedElection(sys);
      expect((await sys.client().tally.getJwks()).keys.map((k) => k.kid)).toEqual([await thumb(tallyPem)]);
      expect((await sys.client().auth.getJwks()).keys.map((k) => k.kid)).toEqual([await thumb(authPems[0])]);
      const logKey = (await sys.client().log.getCheckpoint({ electionId: 1 })).publicKey;
      expect(Buffer.from(logKey).toString("base64url")).toBe(createPrivateKey(logPem).export({ format: "jwk" }).x);
      await expectNoPrivateKeyIn(sys.db, [...authPems, tallyPem, logPem].map((p) => createPrivateKey(p)));
    });

    it("when the key file is replaced by a new key followed by the old one, then new tokens carry the new kid, old tokens still verify, and GetJwks lists both", async () => {
      const sys = system();
      const before = await sys.adminToken();
      expect(kidOf(before)).toBe(await thumb(authPems[0]));
      writeFileSync(authFile, authPems[1] + authPems[0]);
      try {
        const after = await eventually(async () => {
          const t = await sys.adminToken();
          return kidOf(t) === (await thumb(authPems[1])) ? t : undefined;
        });
        expect((await sys.client().auth.getJwks()).keys.map((k) => k.kid)).toEqual([await thumb(authPems[1]), await thumb(authPems[0])]);
        const create = (token: string) => sys.client(token).elections.createElection({ title: uniqueName("Rot"), method: voteV1.BallotMethod.BALLOT_METHOD_PLURALITY, candidates: ["A", "B"] });
        await expect(create(before)).resolves.toBeDefined();
        await eventually(() => create(after), 15_000, "vote-server accepts the new key");
      } finally {
        writeFileSync(authFile, authPems[0]); // as the next store's system expects it
      }
    });
    it("when a key is removed from the key file (compromised), then vote-server refuses the tokens it signed within seconds, without a restart", async () => {
      const sys = system();
      const create = (token: string) => sys.client(token).elections.createElection({ title: uniqueName("Gone"), method: voteV1.BallotMethod.BALLOT_METHOD_PLURALITY, candidates: ["A", "B"] });
      // The file may have just been put back by the test before: wait until its key signs.
      const old = await eventually(async () => {
        const t = await sys.adminToken();
        return kidOf(t) === (await thumb(authPems[0])) ? t : undefined;
      });
      await expect(create(old)).resolves.toBeDefined(); // vote-server has cached the old key
      writeFileSync(authFile, authPems[1] + authPems[0]);
      try {
        const fresh = await eventually(async () => {
          const t = await sys.adminToken();
          return kidOf(t) === (await thumb(authPems[1])) ? t : undefined;
        });
        await eventually(() => create(fresh), 15_000, "vote-server accepts the new key");
        writeFileSync(authFile, authPems[1]);
        await eventually(
          async () => {
            const r = await create(old).then(() => "accepted", (err: { code?: number }) => err.code);
            return r === Status.UNAUTHENTICATED ? r : undefined;
          },
          10_000,
          "vote-server refuses a token of the removed key",
        );
        await expect(create(fresh)).resolves.toBeDefined();
      } finally {
        writeFileSync(authFile, authPems[0]); // as the next store's system expects it
      }
    });
  },
  { AUTH_SIGNING_KEY_FILE: authFile, TALLY_SIGNING_KEY_FILE: tallyFile, VOTE_LOG_KEY_FILE: logFile, KEY_ENCRYPTION_KEY: "", SIGNING_KEY_RELOAD_MS: "200" },
);

/** A fresh, empty database on the store. */
async function freshDatabase(store: Store): Promise<{ url: string; drop(): Promise<void> }> {
  if (store === "sqlite") {
    const d = mkdtempSync(join(dir, "db-"));
    return { url: `sqlite:${join(d, "v.sqlite")}`, drop: async () => rmSync(d, { recursive: true, force: true }) };
  }
  const base = (await mysqlServerUrl())!;
  const name = `voting_test_${randomBytes(6).toString("hex")}`;
  const c = await mysql.createConnection({ uri: base });
  await c.query(`CREATE DATABASE \`${name}\``);
  await c.end();
  return {
    url: `${base}/${name}`,
    async drop() {
      const c2 = await mysql.createConnection({ uri: base });
      await c2.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c2.end();
    },
  };
}

/** The raw seed of a key and the forms the old version stored it in, to look for in a file. */
const seedForms = (key: KeyObject) => {
  const d = key.export({ format: "jwk" }).d!;
  return [Buffer.from(d, "base64url"), Buffer.from(d, "latin1")];
};

/** The bytes of the SQLite file and its WAL, after every connection is closed. */
function sqliteBytes(url: string): Buffer {
  const path = url.slice("sqlite:".length);
  return Buffer.concat([path, `${path}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f)));
}

describeOnStores("plaintext keys of an older store", (system, store) => {
  /** A store as the previous version left it: one plaintext key row. Closed, so its WAL is folded in. */
  async function legacyStore() {
    const fresh = await freshDatabase(store);
    const db = openDatabase<any>(fresh.url);
    const first = authMigrations(db.dialect, {});
    await migrate(db, "auth_migrations", { "0001-users-and-keys": first["0001-users-and-keys"] });
    const key = generateKeyPairSync("ed25519");
    const kid = "legacy-kid";
    const priv = { ...key.privateKey.export({ format: "jwk" }), kid, alg: "EdDSA" };
    const pub = { ...key.publicKey.export({ format: "jwk" }), kid, alg: "EdDSA", use: "sig" };
    await db.kysely.insertInto("auth_signing_keys").values({ kid, private_jwk: JSON.stringify(priv), public_jwk: JSON.stringify(pub), created_at: Date.now() - 60_000 }).execute();
    await db.close();
    return { fresh, key: key.privateKey, kid };
  }
  const env = (url: string, extra: Record<string, string>) => ({ DATABASE_URL: url, LOG_LEVEL: "silent", SERVICE_PUBLIC_KEYS_FILE: ensureServiceKeyFiles(mkdtempSync(join(tmpdir(), "voting-keys-"))).publicKeysFile, ARGON2_MEMORY_KIB: "1024", ARGON2_TIME_COST: "1", AUTH_PORT: "0", ...extra });

  for (const source of ["a key-encryption key", "key files"] as const) {
    it(`when it is opened with ${source}, then the old key is dropped as compromised: not in the store, the file or the JWKS, and a token it signs is refused`, async () => {
      const { fresh, key, kid } = await legacyStore();
      const file = join(dir, `legacy-${store}-${randomBytes(3).toString("hex")}.pem`);
      writeFileSync(file, newPem());
      const extra = source === "key files" ? { AUTH_SIGNING_KEY_FILE: file } : { KEY_ENCRYPTION_KEY: randomBytes(32).toString("base64") };
      const auth = await startAuthServer(readAuthConfig(env(fresh.url, extra)), log);
      const c = createVotingClient({ authAddr: `127.0.0.1:${auth.port}`, voteAddr: "127.0.0.1:1", tallyAddr: "127.0.0.1:1" });
      const db = openDatabase<any>(fresh.url);
      try {
        const published = (await c.auth.getJwks()).keys.map((j) => j.kid);
        expect(published).toHaveLength(1);
        expect(published).not.toContain(kid);
        expect((await db.kysely.selectFrom("auth_signing_keys").select("kid").execute()).map((r) => r.kid)).not.toContain(kid);
        await expect(createVotingClient({ authAddr: `127.0.0.1:${auth.port}`, token: await forgedAdminToken(key, kid) }).auth.listUsers({})).rejects.toMatchObject({ code: Status.UNAUTHENTICATED });
        await expectNoPrivateKeyIn(db, [key]);
      } finally {
        c.close();
        await auth.stop();
        await db.close();
      }
      try {
        if (store === "sqlite") {
          const bytes = sqliteBytes(fresh.url);
          for (const form of seedForms(key)) expect(bytes.includes(form), "old key bytes in the SQLite file").toBe(false);
        }
      } finally {
        await fresh.drop();
      }
    });
  }

  it("when tally-server starts on a store whose statement was signed by an old plaintext key, then the key is dropped, a fresh statement is signed with the new key, and audit passes", async () => {
    const sys = system();
    const id = await closedElection(sys);
    // Turn the tally tables back into the previous version's: a plaintext key that signed the statement.
    const key = generateKeyPairSync("ed25519");
    const kid = "legacy-tally-kid";
    const old = decodeJwt((await sys.client().tally.getResults({ electionId: id })).result!.statement);
    const statement = await new SignJWT(old).setProtectedHeader({ alg: "EdDSA", kid, typ: "voting-result+jwt" }).sign(key.privateKey);
    await sys.db.kysely.deleteFrom("tally_signing_keys").execute();
    await sys.db.kysely.schema.alterTable("tally_signing_keys").dropColumn("sealed_key").execute();
    await sys.db.kysely.schema.alterTable("tally_signing_keys").addColumn("private_jwk", "text").execute();
    await sys.db.kysely.schema.alterTable("tally_signing_keys").addColumn("public_jwk", "text").execute();
    const priv = { ...key.privateKey.export({ format: "jwk" }), kid, alg: "EdDSA" };
    const pub = { ...key.publicKey.export({ format: "jwk" }), kid, alg: "EdDSA", use: "sig" };
    await sys.db.kysely.insertInto("tally_signing_keys").values({ kid, private_jwk: JSON.stringify(priv), public_jwk: JSON.stringify(pub), created_at: Date.now() - 60_000 }).execute();
    await sys.db.kysely.updateTable("tally_statements").set({ statement }).where("election_id", "=", id).execute();
    await sys.db.kysely.deleteFrom("tally_migrations").where("name", "=", "0003-sealed-signing-keys").execute();
    await sys.restartTally();

    const jwks = (await sys.client().tally.getJwks()).keys.map((k) => k.kid);
    expect(jwks).not.toContain(kid);
    const fresh = (await sys.client().tally.getResults({ electionId: id })).result!.statement;
    expect(jwks).toContain(kidOf(fresh));
    expect(decodeJwt(fresh)).toMatchObject({ log_head_hash: old.log_head_hash, winners: old.winners, ballot_count: old.ballot_count });
    const r = await voting(sys, "audit", "--election", String(id));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    await expectNoPrivateKeyIn(sys.db, [key.privateKey]);
  });
});
