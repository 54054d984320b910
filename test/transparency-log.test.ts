// The transparency log as the public sees it: receipts carry a signed checkpoint and an
// inclusion proof, LogService serves checkpoints and proofs, and every proof verifies twice:
// with the tlog library and with the small verifier below, which uses node:crypto only and
// shares no code with the servers (RFC 9162 sections 2.1.3.2 and 2.1.4.2, C2SP signed-note).
import { expect, it } from "vitest";
import { createHash, createPublicKey, verify } from "node:crypto";
import { isServiceError, logV1, Status, voteV1, type VotingClient } from "@voting/client";
import { ed25519Verifier, openCheckpoint, parseVerifierKey, verifyConsistency, verifyInclusion, leafHash, chainHash, ballotCommitment, MemoryTree, entryBytes } from "@voting/election-core";
import { describeOnStores, eventually, rowCounts, uniqueName, type System } from "./harness.js";

// ---- the independent verifier ----------------------------------------------------------------

const sha256 = (...parts: Buffer[]) => parts.reduce((h, p) => h.update(p), createHash("sha256")).digest();
const leafOf = (data: Buffer) => sha256(Buffer.of(0), data);
const nodeOf = (l: Buffer, r: Buffer) => sha256(Buffer.of(1), l, r);

/** RFC 9162 2.1.3.2. */
function indieInclusion(index: number, size: number, leaf: Buffer, path: Buffer[], root: Buffer): boolean {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeOf(p, r);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) ((fn = Math.floor(fn / 2)), (sn = Math.floor(sn / 2)));
    } else r = nodeOf(r, p);
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 2.1.4.2. */
function indieConsistency(size1: number, size2: number, path: Buffer[], root1: Buffer, root2: Buffer): boolean {
  if (size1 > size2) return false;
  if (size1 === size2) return path.length === 0 && root1.equals(root2);
  if (size1 === 0) return path.length === 0;
  if (path.length === 0) return false;
  const p = (size1 & (size1 - 1)) === 0 ? [root1, ...path] : path;
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) ((fn = Math.floor(fn / 2)), (sn = Math.floor(sn / 2)));
  let fr = p[0];
  let sr = p[0];
  for (const c of p.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeOf(c, fr);
      sr = nodeOf(c, sr);
      while (fn % 2 === 0 && fn !== 0) ((fn = Math.floor(fn / 2)), (sn = Math.floor(sn / 2)));
    } else sr = nodeOf(sr, c);
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return fr.equals(root1) && sr.equals(root2) && sn === 0;
}

/** Opens a C2SP checkpoint note with a vkey "<name>+<hex id>+<base64(0x01 || key)>"; undefined unless signed by it. */
function indieCheckpoint(note: string, vkey: string): { origin: string; size: number; root: Buffer } | undefined {
  // The base64 key may itself hold "+": split at the first two.
  const [, name, idHex, keyB64] = /^([^+]*)\+([^+]*)\+(.*)$/.exec(vkey) ?? [];
  const key = Buffer.from(keyB64, "base64");
  if (key[0] !== 0x01 || key.length !== 33) return undefined;
  const keyId = sha256(Buffer.from(`${name}\n`), key).subarray(0, 4);
  if (keyId.toString("hex") !== idHex) return undefined;
  const split = note.lastIndexOf("\n\n");
  const text = note.slice(0, split + 1);
  const pub = createPublicKey({ key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), key.subarray(1)]), format: "der", type: "spki" });
  const signed = note
    .slice(split + 2)
    .split("\n")
    .filter((l) => l !== "")
    .some((line) => {
      const m = /^\u2014 (\S+) (\S+)$/.exec(line);
      if (!m || m[1] !== name) return false;
      const sig = Buffer.from(m[2], "base64");
      return sig.subarray(0, 4).equals(keyId) && sig.length === 68 && verify(null, Buffer.from(text), pub, sig.subarray(4));
    });
  if (!signed) return undefined;
  const [origin, size, root] = text.split("\n");
  return { origin, size: Number(size), root: Buffer.from(root, "base64") };
}

/** The format 2 entry bytes, as docs/ballot-log.md specifies them. */
const indieEntryBytes = (e: voteV1.BallotLogEntry) => Buffer.from(`voting-ballot-log-v2\n${e.electionId}\n${e.seq}\n${e.trackingCode}\n${e.commitment}\n`);

// ---- helpers -------------------------------------------------------------------------------

const codeOf = (err: unknown) => (isServiceError(err) ? err.code : undefined);
async function statusOf(p: Promise<unknown>): Promise<Status | undefined> {
  try {
    await p;
    return Status.OK;
  } catch (err) {
    return codeOf(err);
  }
}

async function openElection(sys: System, resultsWhileOpen = false) {
  const admin = sys.client(await sys.adminToken());
  const { election } = await admin.elections.createElection({ title: uniqueName("Tlog"), method: voteV1.BallotMethod.BALLOT_METHOD_PLURALITY, candidates: ["A", "B", "C"], resultsWhileOpen });
  await admin.elections.openElection({ electionId: election!.id });
  return { id: election!.id, admin };
}

/** Casts n ballots in waves of `wave` at once (so commits hold several); returns the receipts. */
async function castBallots(sys: System, id: number, n: number, wave = 10): Promise<voteV1.Receipt[]> {
  const voters = await Promise.all(Array.from({ length: n }, () => sys.user("voter")));
  const out: voteV1.Receipt[] = [];
  for (let i = 0; i < n; i += wave) {
    const rs = await Promise.all(voters.slice(i, i + wave).map((v, j) => sys.client(v.token).votes.castVote({ electionId: id, ballot: { choices: [1 + ((i + j) % 3)] } })));
    out.push(...rs.map((r) => r.receipt!));
  }
  return out;
}

interface Verified {
  size: number;
  root: Buffer;
  note: string;
}

/** Checks a note both ways and returns its size and root. */
function checkNote(note: string, vkey: string, origin: string): Verified {
  const k = parseVerifierKey(vkey);
  const lib = openCheckpoint(note, { log: ed25519Verifier(k.name, k.publicKey), origin });
  const indie = indieCheckpoint(note, vkey);
  expect(indie, "independent signature check").toBeDefined();
  expect(indie!.origin).toBe(origin);
  expect(indie!.size).toBe(lib.checkpoint.size);
  expect(indie!.root.equals(lib.checkpoint.rootHash)).toBe(true);
  return { size: indie!.size, root: indie!.root, note };
}

function checkInclusion(index: number, size: number, data: Buffer, path: Uint8Array[], root: Buffer) {
  const proof = path.map((p) => Buffer.from(p));
  expect(verifyInclusion(index, size, leafHash(data), proof, root), `library inclusion of ${index} in ${size}`).toBe(true);
  expect(indieInclusion(index, size, leafOf(data), proof, root), `independent inclusion of ${index} in ${size}`).toBe(true);
}

async function latest(anon: VotingClient, id: number) {
  const r = await anon.log.getCheckpoint({ electionId: id });
  return { r, vkey: r.verifierKey };
}

describeOnStores("transparency log", (system) => {
  let fifty: { id: number; receipts: voteV1.Receipt[]; saved: Verified[]; vkey: string; origin: string } | undefined;

  it("when 50 ballots are cast, then every receipt carries a checkpoint signed with the published key and an inclusion proof that verifies, and the embargo holds in the leaves", async () => {
    const sys = system();
    const { id } = await openElection(sys);
    const anon = sys.client();
    const receipts = await castBallots(sys, id, 50);
    const { r, vkey } = await latest(anon, id);
    const origin = `voting.example/election/${id}`;
    expect(r.checkpoint!.origin).toBe(origin);
    expect(parseVerifierKey(vkey).publicKey.equals(Buffer.from(r.publicKey))).toBe(true);
    const saved = new Map<number, Verified>();
    for (const rc of receipts) {
      expect(rc.leafIndex).toBe(rc.seq - 1);
      const c = checkNote(rc.checkpoint, vkey, origin);
      expect(c.size).toBeGreaterThanOrEqual(rc.seq);
      saved.set(c.size, c);
      // The leaf is rebuilt from the public entry: commitment only, no ballot, while embargoed.
      const { entry } = await anon.votes.getReceipt({ trackingCode: rc.trackingCode });
      expect(entry!.ballot).toBeUndefined();
      expect(entry!.salt).toBe("");
      checkInclusion(rc.leafIndex, c.size, indieEntryBytes(entry!), rc.inclusionPath, c.root);
    }
    // Group commit: fewer checkpoints than ballots, more than one.
    expect(saved.size).toBeGreaterThan(1);
    expect(saved.size).toBeLessThan(50);
    fifty = { id, receipts, saved: [...saved.values()].sort((a, b) => a.size - b.size), vkey, origin };
  });

  it("when proofs are asked for every seq of the 50-ballot election, then each verifies against the latest checkpoint, by index and by tracking code", async () => {
    const sys = system();
    const { id, receipts, vkey, origin } = fifty!;
    const anon = sys.client();
    const top = checkNote((await anon.log.getCheckpoint({ electionId: id })).checkpoint!.note, vkey, origin);
    expect(top.size).toBe(50);
    for (let i = 0; i < 50; i++) {
      const p = await anon.log.getInclusionProof({ electionId: id, leafIndex: i });
      expect(p.treeSize).toBe(50);
      expect(p.leafIndex).toBe(i);
      const data = Buffer.from(p.leafData);
      expect(data.equals(indieEntryBytes(p.entry!))).toBe(true);
      expect(data.toString()).not.toMatch(/\n[0-9,]+\n$/);
      expect(p.entry!.ballot).toBeUndefined();
      checkInclusion(i, 50, data, p.inclusionPath, top.root);
      // Both verifiers reject a proof with one bit flipped, or for the neighbouring leaf.
      const bent = p.inclusionPath.map((x) => Buffer.from(x));
      bent[i % bent.length][0] ^= 1;
      expect(verifyInclusion(i, 50, leafHash(data), bent, top.root)).toBe(false);
      expect(indieInclusion(i, 50, leafOf(data), bent, top.root)).toBe(false);
      expect(indieInclusion(i ^ 1, 50, leafOf(data), p.inclusionPath.map((x) => Buffer.from(x)), top.root)).toBe(false);
    }
    for (const rc of receipts.slice(0, 5)) {
      const p = await anon.log.getInclusionProof({ electionId: id, trackingCode: rc.trackingCode.toLowerCase() });
      expect(p.leafIndex).toBe(rc.seq - 1);
      checkInclusion(p.leafIndex, 50, Buffer.from(p.leafData), p.inclusionPath, top.root);
    }
    // Inclusion in an older tree, e.g. the one a receipt's checkpoint names.
    const first = fifty!.saved[0];
    const p = await anon.log.getInclusionProof({ electionId: id, leafIndex: 0, treeSize: first.size });
    checkInclusion(0, first.size, Buffer.from(p.leafData), p.inclusionPath, first.root);
  });

  it("when consistency proofs are asked between every pair of saved checkpoints, then each verifies both ways", async () => {
    const sys = system();
    const { id, saved, vkey, origin } = fifty!;
    const anon = sys.client();
    const all = [...saved, checkNote((await anon.log.getCheckpoint({ electionId: id })).checkpoint!.note, vkey, origin)];
    for (const a of all) {
      for (const b of all) {
        if (a.size > b.size) continue;
        const p = await anon.log.getConsistencyProof({ electionId: id, firstSize: a.size, secondSize: b.size });
        const path = p.consistencyPath.map((x) => Buffer.from(x));
        expect(verifyConsistency(a.size, b.size, path, a.root, b.root), `library ${a.size} -> ${b.size}`).toBe(true);
        expect(indieConsistency(a.size, b.size, path, a.root, b.root), `independent ${a.size} -> ${b.size}`).toBe(true);
      }
    }
  });

  it("when vote-server restarts, then its tree continues from the stored nodes: new receipts verify and the log stays consistent with checkpoints from before", async () => {
    const sys = system();
    const { id, vkey, origin } = await (async () => {
      const { id } = await openElection(sys, true);
      const { vkey } = await latest(sys.client(), id);
      return { id, vkey, origin: `voting.example/election/${id}` };
    })();
    const before = await castBallots(sys, id, 7, 7);
    const old = checkNote(before.reduce((a, b) => (a.seq > b.seq ? a : b)).checkpoint, vkey, origin);
    await sys.restartVote();
    // The channel may need a moment to reconnect.
    await eventually(() => sys.client().log.getCheckpoint({ electionId: id }));
    const after = await castBallots(sys, id, 6, 3);
    const anon = sys.client();
    const top = checkNote((await anon.log.getCheckpoint({ electionId: id })).checkpoint!.note, vkey, origin);
    expect(top.size).toBe(13);
    for (const rc of after) {
      const c = checkNote(rc.checkpoint, vkey, origin);
      const { entry } = await anon.votes.getReceipt({ trackingCode: rc.trackingCode });
      checkInclusion(rc.leafIndex, c.size, indieEntryBytes(entry!), rc.inclusionPath, c.root);
    }
    const p = await anon.log.getConsistencyProof({ electionId: id, firstSize: old.size, secondSize: 0 });
    expect(p.secondSize).toBe(13);
    expect(indieConsistency(old.size, 13, p.consistencyPath.map((x) => Buffer.from(x)), old.root, top.root)).toBe(true);
  });

  it("when a voter retries a cast, then it gets the same receipt: the checkpoint that first included the ballot and its inclusion proof", async () => {
    const sys = system();
    const { id } = await openElection(sys, true);
    const v = await sys.user("voter");
    const voter = sys.client(v.token);
    const key = Buffer.alloc(32, 7);
    const first = (await voter.votes.castVote({ electionId: id, ballot: { choices: [2] }, idempotencyKey: key })).receipt!;
    await castBallots(sys, id, 3, 3);
    const again = (await voter.votes.castVote({ electionId: id, ballot: { choices: [2] }, idempotencyKey: key })).receipt!;
    // The same receipt: the checkpoint that first included the ballot, and the same proof.
    expect(again).toEqual(first);
    const { vkey } = await latest(sys.client(), id);
    const c = checkNote(again.checkpoint, vkey, `voting.example/election/${id}`);
    expect(c.size).toBe(1);
    const { entry } = await sys.client().votes.getReceipt({ trackingCode: again.trackingCode });
    checkInclusion(again.leafIndex, 1, indieEntryBytes(entry!), again.inclusionPath, c.root);
  });

  it("when an insider rewrites an early ballot of a closed election, recomputes commitments, chain and tree, and the server re-signs, then the consistency proof from a checkpoint saved earlier fails: that pair is the evidence", async () => {
    const sys = system();
    const { id, admin } = await openElection(sys, true);
    const origin = `voting.example/election/${id}`;
    const anon = sys.client();
    const { vkey } = await latest(anon, id);
    await castBallots(sys, id, 4, 4);
    // A voter or witness keeps the checkpoint of the first four ballots.
    const kept = checkNote((await anon.log.getCheckpoint({ electionId: id })).checkpoint!.note, vkey, origin);
    expect(kept.size).toBe(4);
    await castBallots(sys, id, 4, 4);
    await admin.elections.closeElection({ electionId: id });
    const honest = checkNote((await anon.log.getCheckpoint({ electionId: id })).checkpoint!.note, vkey, origin);
    expect(honest.size).toBe(8);

    // The insider: new choices for seq 2, then every hash after it, the tree, and the head.
    const db = sys.db.kysely;
    const rows = await db.selectFrom("ballots").selectAll().where("election_id", "=", id).orderBy("seq").execute();
    const election = await db.selectFrom("elections").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
    let prev: string = election.genesis_hash;
    const tree = new MemoryTree();
    for (const row of rows) {
      const seq = Number(row.seq);
      const choices = seq === 2 ? (row.choices === "1" ? "2" : "1") : row.choices;
      const commitment = ballotCommitment(row.salt, choices.split(",").map(Number));
      const e = { electionId: id, seq, trackingCode: row.tracking_code, commitment };
      prev = chainHash(2, prev, e);
      tree.appendLeafHash(leafHash(entryBytes(2, e)));
      await db.updateTable("ballots").set({ choices, commitment, hash: prev }).where("election_id", "=", id).where("seq", "=", seq).execute();
    }
    await db.updateTable("elections").set({ head_hash: prev }).where("id", "=", id).execute();
    const nodes = await db.selectFrom("tlog_nodes").select(["level", "idx"]).where("election_id", "=", id).execute();
    for (const n of nodes) {
      await db.updateTable("tlog_nodes").set({ hash: Buffer.from(tree.get(Number(n.level), Number(n.idx))) }).where("election_id", "=", id).where("level", "=", n.level).where("idx", "=", n.idx).execute();
    }
    // ...and has the server sign the rewritten tree.
    await db.deleteFrom("checkpoints").where("election_id", "=", id).execute();
    const forged = await eventually(async () => {
      const c = (await anon.log.getCheckpoint({ electionId: id })).checkpoint!;
      return c.treeSize === 8 ? checkNote(c.note, vkey, origin) : undefined;
    });
    expect(forged.root.equals(tree.root())).toBe(true);
    expect(forged.root.equals(honest.root)).toBe(false);

    // Anyone who kept the size-4 checkpoint (a receipt) catches it: no proof joins the two.
    const p = await anon.log.getConsistencyProof({ electionId: id, firstSize: kept.size, secondSize: 8 });
    const path = p.consistencyPath.map((x) => Buffer.from(x));
    expect(verifyConsistency(kept.size, 8, path, kept.root, forged.root)).toBe(false);
    expect(indieConsistency(kept.size, 8, path, kept.root, forged.root)).toBe(false);
    // Both notes verify with the log's key: together they prove the log was rewritten.
    expect(indieCheckpoint(kept.note, vkey)).toBeDefined();
    expect(indieCheckpoint(forged.note, vkey)).toBeDefined();
    // Nor does a proof from the rewritten tree for an untouched ballot verify against the kept checkpoint.
    const pe = await anon.log.getInclusionProof({ electionId: id, leafIndex: 0, treeSize: kept.size });
    expect(indieInclusion(0, kept.size, leafOf(Buffer.from(pe.leafData)), pe.inclusionPath.map((x) => Buffer.from(x)), kept.root)).toBe(false);
  });

  it("when proofs are asked with bad sizes, an unknown election or a format 1 election, then each gets a clear code and nothing changes", async () => {
    const sys = system();
    const { id, admin } = await openElection(sys, true);
    await castBallots(sys, id, 3, 3);
    // A format 1 election (as migrated from before format 2) has no tree.
    const { election: old } = await admin.elections.createElection({ title: uniqueName("Old"), method: voteV1.BallotMethod.BALLOT_METHOD_PLURALITY, candidates: ["A", "B"] });
    await sys.db.kysely.updateTable("elections").set({ log_format: 1 }).where("id", "=", old!.id).execute();
    await admin.elections.openElection({ electionId: old!.id });
    const v1 = await sys.user("voter");
    const r1 = (await sys.client(v1.token).votes.castVote({ electionId: old!.id, ballot: { choices: [1] } })).receipt!;
    expect(r1.checkpoint).toBe("");
    expect(r1.inclusionPath).toEqual([]);
    const anon = sys.client();
    await eventually(async () => ((await anon.log.getCheckpoint({ electionId: id })).checkpoint!.treeSize === 3 ? true : undefined));
    const count = async () => ({
      ...(await rowCounts(sys)),
      ...Object.fromEntries(
        await Promise.all(["tlog_nodes", "checkpoints"].map(async (t) => [t, Number((await sys.db.kysely.selectFrom(t).select((eb: any) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n)])),
      ),
    });
    const before = await count();
    const L = anon.log;
    const cases: [string, () => Promise<unknown>, Status][] = [
      ["index = size", () => L.getInclusionProof({ electionId: id, leafIndex: 3 }), Status.INVALID_ARGUMENT],
      ["index >= given size", () => L.getInclusionProof({ electionId: id, leafIndex: 2, treeSize: 2 }), Status.INVALID_ARGUMENT],
      ["size beyond latest", () => L.getInclusionProof({ electionId: id, leafIndex: 0, treeSize: 4 }), Status.INVALID_ARGUMENT],
      ["no leaf named", () => L.getInclusionProof({ electionId: id }), Status.INVALID_ARGUMENT],
      ["malformed tracking code", () => L.getInclusionProof({ electionId: id, trackingCode: "nope" }), Status.INVALID_ARGUMENT],
      ["unknown tracking code", () => L.getInclusionProof({ electionId: id, trackingCode: "0".repeat(26) }), Status.NOT_FOUND],
      ["other election's code", () => L.getInclusionProof({ electionId: id, trackingCode: r1.trackingCode }), Status.NOT_FOUND],
      ["second size beyond latest", () => L.getConsistencyProof({ electionId: id, firstSize: 1, secondSize: 4 }), Status.INVALID_ARGUMENT],
      ["first above second", () => L.getConsistencyProof({ electionId: id, firstSize: 3, secondSize: 2 }), Status.INVALID_ARGUMENT],
      ["first beyond latest", () => L.getConsistencyProof({ electionId: id, firstSize: 9 }), Status.INVALID_ARGUMENT],
      ["unknown election", () => L.getCheckpoint({ electionId: 999_999 }), Status.NOT_FOUND],
      ["unknown election proof", () => L.getInclusionProof({ electionId: 999_999, leafIndex: 0 }), Status.NOT_FOUND],
      ["format 1 checkpoint", () => L.getCheckpoint({ electionId: old!.id }), Status.FAILED_PRECONDITION],
      ["format 1 inclusion", () => L.getInclusionProof({ electionId: old!.id, leafIndex: 0 }), Status.FAILED_PRECONDITION],
      ["format 1 consistency", () => L.getConsistencyProof({ electionId: old!.id, firstSize: 0, secondSize: 1 }), Status.FAILED_PRECONDITION],
    ];
    for (const [what, call, code] of cases) expect(Status[(await statusOf(call())) ?? -1], what).toBe(Status[code]);
    expect(await count()).toEqual(before);
    const nodes = await sys.db.kysely.selectFrom("tlog_nodes").select("idx").where("election_id", "=", old!.id).execute();
    expect(nodes).toEqual([]);
  });

  it("when a store from before the transparency log holds a format 2 log, then the migration builds its tree and the first start signs a checkpoint of its whole log", async () => {
    const sys = system();
    const { id } = await openElection(sys, true);
    await castBallots(sys, id, 5, 5);
    // Back to the schema before migration 0005, with the log's entries in place.
    const db = sys.db.kysely;
    for (const t of ["tlog_nodes", "checkpoints", "vote_log_keys"]) await db.schema.dropTable(t).execute();
    await db.deleteFrom("vote_migrations").where("name", "=", "0005-transparency-log").execute();
    await sys.restartVote();
    const anon = sys.client();
    // The channel may need a moment to reconnect.
    const r = await eventually(() => anon.log.getCheckpoint({ electionId: id }));
    const c = checkNote(r.checkpoint!.note, r.verifierKey, `voting.example/election/${id}`);
    expect(c.size).toBe(5);
    // The root from the public entries alone, by RFC 9162's recursive definition.
    const entries: voteV1.BallotLogEntry[] = [];
    for await (const m of await anon.votes.streamBallots({ electionId: id })) entries.push(...(m as voteV1.StreamBallotsResponse).entries);
    const mth = (leaves: Buffer[]): Buffer => {
      if (leaves.length === 1) return leaves[0];
      let k = 1;
      while (k * 2 < leaves.length) k *= 2;
      return nodeOf(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
    };
    expect(mth(entries.map((e) => leafOf(indieEntryBytes(e)))).equals(c.root)).toBe(true);
    // And ballots cast afterwards extend the same tree.
    const [next] = await castBallots(sys, id, 1, 1);
    const p = await anon.log.getConsistencyProof({ electionId: id, firstSize: 5, secondSize: 6 });
    const top = checkNote(next.checkpoint, r.verifierKey, `voting.example/election/${id}`);
    expect(indieConsistency(5, 6, p.consistencyPath.map((x) => Buffer.from(x)), c.root, top.root)).toBe(true);
  });

  it("when an election has no ballots yet, then its checkpoint is the signed empty tree", async () => {
    const sys = system();
    const { id } = await openElection(sys);
    const r = await sys.client().log.getCheckpoint({ electionId: id });
    const c = checkNote(r.checkpoint!.note, r.verifierKey, `voting.example/election/${id}`);
    expect(c.size).toBe(0);
    expect(c.root.equals(sha256())).toBe(true);
  });},
// Hundreds of proofs from one address in a few seconds: the rate limit has its own suite.
{ VOTE_LOG_CALLS_PER_SECOND: "1000000", VOTE_LOG_CALL_BURST: "1000000" });

// Keeps the import of logV1 meaningful for readers: requests are plain objects of these types.
export type { logV1 };

describeOnStores(
  "transparency log call limits",
  (system) => {
    it("when one anonymous caller sends proof requests beyond its burst, then the excess is RESOURCE_EXHAUSTED and calls are served again once tokens refill", async () => {
      const sys = system();
      const { id } = await openElection(sys, true);
      await castBallots(sys, id, 4, 4);
      const anon = sys.client();
      // The election's setup above made no LogService call: the caller's bucket is full (3).
      const codes = [];
      for (let i = 0; i < 10; i++) codes.push(await statusOf(anon.log.getInclusionProof({ electionId: id, leafIndex: i % 4 })));
      expect(codes).toContain(Status.RESOURCE_EXHAUSTED);
      expect(codes.slice(0, 3)).toEqual([Status.OK, Status.OK, Status.OK]);
      expect(codes.every((c) => c === Status.OK || c === Status.RESOURCE_EXHAUSTED)).toBe(true);
      await eventually(async () => ((await statusOf(anon.log.getCheckpoint({ electionId: id }))) === Status.OK ? true : undefined));
    });
  },
  { VOTE_LOG_CALLS_PER_SECOND: "1", VOTE_LOG_CALL_BURST: "3" },
);
