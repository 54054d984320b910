// Ed25519 signing keys of the servers that sign (auth-server: tokens; tally-server: final result
// statements). No private key is ever stored in the database: keys come from a PEM file, or the
// servers generate them and store them sealed (AES-256-GCM) under a key-encryption key (KEK)
// given at start. Public keys are derived from the private keys, never read from the store, so
// whoever can write the database can neither sign nor get a key of their own published.
import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { calculateJwkThumbprint, type JWK } from "jose";
import { sql, type Kysely, type Migration } from "kysely";
import { TOKEN_ALGORITHM } from "./auth.js";
import { ConfigError } from "./config.js";
import type { Database, Dialect } from "./db.js";
import type { Logger } from "./logger.js";

/** Columns kid, created_at, sealed_key; each signing service has its own table. */
export type KeyTable = "auth_signing_keys" | "tally_signing_keys";

export interface SigningKey {
  kid: string;
  createdAt: number;
  privateKey: KeyObject;
}

export interface KeyRing {
  /** The key that signs now. */
  signer(): { kid: string; privateKey: KeyObject };
  /** The keys to publish: the signer first, then older keys still needed for verification. */
  publicJwks(): JWK[];
  /** Public key by kid, among the published ones. */
  keyFor(kid: string | undefined): KeyObject | undefined;
  close(): void;
}

const publicJwkOf = (k: SigningKey): JWK => ({ ...(createPublicKey(k.privateKey).export({ format: "jwk" }) as JWK), kid: k.kid, alg: TOKEN_ALGORITHM, use: "sig" });
const thumbprintOf = (key: KeyObject) => calculateJwkThumbprint(createPublicKey(key).export({ format: "jwk" }) as JWK);

// ---- sealing -------------------------------------------------------------------------------

const SEAL_PREFIX = "v1.";
// The row's identity is bound to the ciphertext: a sealed key cannot be moved to another kid,
// time or table, and no row can be made without the KEK.
const aadOf = (table: KeyTable, kid: string, createdAt: number) => Buffer.from(`voting-signing-key-v1\n${table}\n${kid}\n${createdAt}`, "utf8");

function seal(kek: Buffer, table: KeyTable, kid: string, createdAt: number, key: KeyObject): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", kek, iv).setAAD(aadOf(table, kid, createdAt));
  const body = Buffer.concat([cipher.update(key.export({ format: "der", type: "pkcs8" })), cipher.final()]);
  return SEAL_PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64url");
}

function unseal(kek: Buffer, table: KeyTable, kid: string, createdAt: number, sealed: string | null): KeyObject | undefined {
  if (!sealed?.startsWith(SEAL_PREFIX)) return undefined;
  const raw = Buffer.from(sealed.slice(SEAL_PREFIX.length), "base64url");
  if (raw.length < 12 + 16 + 1) return undefined;
  try {
    const decipher = createDecipheriv("aes-256-gcm", kek, raw.subarray(0, 12)).setAAD(aadOf(table, kid, createdAt));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    const der = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]);
    const key = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
    return key.asymmetricKeyType === "ed25519" ? key : undefined;
  } catch {
    return undefined;
  }
}

interface KeyRow {
  kid: string;
  created_at: number | string;
  sealed_key: string | null;
}

async function keyRows(db: Kysely<any>, table: KeyTable): Promise<KeyRow[]> {
  return (await sql<KeyRow>`select kid, created_at, sealed_key from ${sql.table(table)} order by created_at desc, kid`.execute(db)).rows;
}

async function insertSealed(db: Kysely<any>, table: KeyTable, kek: Buffer, key: SigningKey): Promise<void> {
  await sql`insert into ${sql.table(table)} (kid, created_at, sealed_key) values (${key.kid}, ${key.createdAt}, ${seal(kek, table, key.kid, key.createdAt, key.privateKey)})`.execute(db);
}

async function newKey(createdAt = Date.now()): Promise<SigningKey> {
  const { privateKey } = generateKeyPairSync("ed25519");
  return { kid: await thumbprintOf(privateKey), createdAt, privateKey };
}

/** The keys in the table that open with kek, newest first, and the kids of rows that do not. */
async function openRows(db: Kysely<any>, table: KeyTable, kek: Buffer): Promise<{ keys: SigningKey[]; unopened: string[] }> {
  const keys: SigningKey[] = [];
  const unopened: string[] = [];
  for (const r of await keyRows(db, table)) {
    const createdAt = Number(r.created_at);
    const privateKey = unseal(kek, table, r.kid, createdAt, r.sealed_key);
    if (privateKey) keys.push({ kid: r.kid, createdAt, privateKey });
    else unopened.push(r.kid);
  }
  return { keys, unopened };
}

/** The keys in the table that open with kek, newest first (rows that do not open are left out). */
export async function readSealedKeys(db: Database<any>, table: KeyTable, kek: Buffer): Promise<SigningKey[]> {
  return (await openRows(db.kysely, table, kek)).keys;
}

/** Makes a new key and stores it sealed; once replicas reload their keys, it signs. */
export async function rotateSigningKey(db: Database<any>, table: KeyTable, kek: Buffer): Promise<{ kid: string }> {
  const key = await newKey();
  await insertSealed(db.kysely, table, kek, key);
  return { kid: key.kid };
}

/**
 * Replaces the plaintext columns of the previous version. The old keys were readable by anyone
 * with the database or a backup of it, so they are treated as compromised: dropped, never
 * sealed or published again (what they signed stops verifying). On SQLite the scrub runs with
 * secure_delete, so their bytes are overwritten in the file instead of left in free pages.
 * Returns how many keys were dropped through onDropped, for dependents (tally statements).
 */
export function dropPlaintextKeysMigration(table: KeyTable, opts: { dialect?: Dialect; log?: Logger; onDropped?: (db: Kysely<any>, n: number) => Promise<void> }): Migration {
  return {
    async up(db: Kysely<any>) {
      if (opts.dialect === "sqlite") await sql`pragma secure_delete = on`.execute(db);
      const { rows } = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}`.execute(db);
      const n = Number(rows[0]?.n ?? 0);
      await sql`delete from ${sql.table(table)}`.execute(db);
      await db.schema.alterTable(table).dropColumn("private_jwk").execute();
      await db.schema.alterTable(table).dropColumn("public_jwk").execute();
      await db.schema.alterTable(table).addColumn("sealed_key", "text").execute();
      await opts.onDropped?.(db, n);
      if (n > 0) opts.log?.warn({ table, keys: n }, "plaintext signing keys of the previous version dropped as compromised: what they signed no longer verifies");
    },
  };
}

// ---- key files -----------------------------------------------------------------------------

/** The Ed25519 PKCS#8 PEM keys of a file, in order; the kid of each is its JWK thumbprint. */
export async function parseKeyFile(text: string, path: string): Promise<SigningKey[]> {
  const blocks = text.match(/-----BEGIN PRIVATE KEY-----[\s\S]*?-----END PRIVATE KEY-----/g) ?? [];
  if (blocks.length === 0) throw new Error(`${path} holds no PKCS#8 PEM private key (-----BEGIN PRIVATE KEY-----)`);
  return Promise.all(
    blocks.map(async (pem, i) => {
      const privateKey = createPrivateKey(pem);
      if (privateKey.asymmetricKeyType !== "ed25519") throw new Error(`key ${i + 1} of ${path} is ${privateKey.asymmetricKeyType}, not Ed25519`);
      return { kid: await thumbprintOf(privateKey), createdAt: 0, privateKey };
    }),
  );
}

// ---- configuration -------------------------------------------------------------------------

/** 32 bytes, base64 or base64url. */
export function parseKek(raw: string): Buffer {
  const kek = Buffer.from(raw.trim(), "base64");
  if (kek.length !== 32) throw new Error("must be 32 random bytes in base64 (e.g. `openssl rand -base64 32`)");
  return kek;
}

/** KEY_ENCRYPTION_KEY, or the contents of KEY_ENCRYPTION_KEY_FILE; undefined when neither is set. */
export async function readKek(c: { KEY_ENCRYPTION_KEY: Buffer | undefined; KEY_ENCRYPTION_KEY_FILE: string }): Promise<Buffer | undefined> {
  if (c.KEY_ENCRYPTION_KEY && c.KEY_ENCRYPTION_KEY_FILE !== "") throw new ConfigError("set KEY_ENCRYPTION_KEY or KEY_ENCRYPTION_KEY_FILE, not both");
  if (c.KEY_ENCRYPTION_KEY_FILE === "") return c.KEY_ENCRYPTION_KEY;
  try {
    return parseKek(await readFile(c.KEY_ENCRYPTION_KEY_FILE, "utf8"));
  } catch (err) {
    throw new ConfigError(`KEY_ENCRYPTION_KEY_FILE=${c.KEY_ENCRYPTION_KEY_FILE}: ${(err as Error).message}`);
  }
}

export interface KeyRingOptions {
  db: Database<any>;
  table: KeyTable;
  /** Name of the key-file setting, for messages. */
  fileSetting: string;
  /** PEM file of keys: the first signs, all are published. Wins over the KEK. */
  keyFile: string;
  kek: Buffer | undefined;
  reloadMs: number;
  /** KEK store: make a new key when the newest is this old; 0 never. */
  rotateHours: number;
  /** KEK store: how long a key stays published after a newer one took over. */
  retainSeconds: number;
  log: Logger;
}

/** Refuses to start, before anything is migrated, when there is no way to get a key. */
export function requireKeySource(o: Pick<KeyRingOptions, "keyFile" | "kek" | "fileSetting">): void {
  if (o.keyFile === "" && !o.kek) {
    throw new ConfigError(`no signing key configured: set ${o.fileSetting} or KEY_ENCRYPTION_KEY (or KEY_ENCRYPTION_KEY_FILE); see "Keys" in README.md`);
  }
}

/** Loads the keys and reloads them every reloadMs, so that rotation needs no restart. */
export async function openKeyRing(o: KeyRingOptions): Promise<KeyRing> {
  requireKeySource(o);
  const load = o.keyFile !== "" ? fileSource(o) : sealedSource(o);
  let keys: SigningKey[] = (await load(true)) ?? [];
  let byKid = new Map<string, KeyObject>();
  let jwks: JWK[] = [];
  const use = (next: SigningKey[]) => {
    keys = next;
    byKid = new Map(next.map((k) => [k.kid, createPublicKey(k.privateKey)]));
    jwks = next.map(publicJwkOf);
  };
  use(keys);
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    load(false)
      .then((next) => {
        if (next) use(next);
      })
      .catch((err: unknown) => o.log.error({ err, table: o.table }, "reloading signing keys failed; keeping the current ones"))
      .finally(() => (busy = false));
  }, o.reloadMs);
  timer.unref();
  return {
    signer: () => keys[0],
    publicJwks: () => jwks,
    keyFor: (kid) => (kid === undefined ? undefined : byKid.get(kid)),
    close: () => clearInterval(timer),
  };
}

type Source = (starting: boolean) => Promise<SigningKey[] | undefined>;

function fileSource(o: KeyRingOptions): Source {
  let last = "";
  return async (starting) => {
    let text: string;
    try {
      text = await readFile(o.keyFile, "utf8");
    } catch (err) {
      if (starting) throw new ConfigError(`${o.fileSetting}=${o.keyFile}: ${(err as Error).message}`);
      throw err;
    }
    if (text === last) return undefined;
    try {
      const keys = await parseKeyFile(text, o.keyFile);
      last = text;
      if (!starting) o.log.info({ file: o.keyFile, kids: keys.map((k) => k.kid) }, "signing keys reloaded");
      return keys;
    } catch (err) {
      if (starting) throw new ConfigError(`${o.fileSetting}: ${(err as Error).message}`);
      throw err;
    }
  };
}

function sealedSource(o: KeyRingOptions): Source {
  const kek = o.kek!;
  const reported = new Set<string>();
  return async (starting) => {
    let { keys, unopened } = await openRows(o.db.kysely, o.table, kek);
    if (keys.length === 0 && unopened.length > 0) {
      const msg = `KEY_ENCRYPTION_KEY does not open any of the ${unopened.length} signing keys in ${o.table}: it is not the key they were sealed with. Start with that key; making new keys instead would strand every token and statement signed so far`;
      if (starting) throw new ConfigError(msg);
      throw new Error(msg);
    }
    for (const kid of unopened.filter((k) => !reported.has(k))) {
      reported.add(kid);
      o.log.error({ table: o.table, kid }, "a row in the signing-key table does not open with the key-encryption key; it is ignored (written by someone without the key?)");
    }
    const now = Date.now();
    if (keys.length === 0 || (o.rotateHours > 0 && now - keys[0].createdAt >= o.rotateHours * 3_600_000)) {
      const { kid } = await rotateSigningKey(o.db, o.table, kek);
      o.log.info({ table: o.table, kid }, "new signing key");
      ({ keys } = await openRows(o.db.kysely, o.table, kek));
    }
    // A key stays published while what it signed may still be presented.
    const published = keys.filter((_, i) => i === 0 || keys[i - 1].createdAt + o.retainSeconds * 1000 > now);
    const expired = keys.slice(published.length);
    if (expired.length > 0) {
      await sql`delete from ${sql.table(o.table)} where kid in (${sql.join(expired.map((k) => k.kid))})`.execute(o.db.kysely);
      o.log.info({ table: o.table, kids: expired.map((k) => k.kid) }, "expired signing keys removed");
    }
    return published;
  };
}

/** A JWK as the proto JsonWebKey message. */
export const toProtoJwk = (k: JWK) => ({ kid: k.kid ?? "", kty: k.kty ?? "", crv: k.crv ?? "", x: k.x ?? "", alg: k.alg ?? "", use: k.use ?? "" });
