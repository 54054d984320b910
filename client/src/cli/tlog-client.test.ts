// The client side of the transparency log without servers: the checkpoint store (trust on
// first use, what is kept), the proof checks of `voting verify`, and the witness.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openCheckpoint, parseVerifierKey, verifierFromKey, leafHash } from "@voting/election-core";
import { CheckpointStore, originDirName } from "./checkpoint-store.js";
import { openLogCheckpoint, proveAllConsistent, proveIncluded, rootText, SplitViewError, type KeptCheckpoint } from "./tlog-check.js";
import { loadOrCreateWitnessKey, parseWitnessKey, WitnessDir, witnessOnce } from "./witness-core.js";
import { serveWitnessDir } from "./witness-http.js";
import { FakeLog } from "./fake-log.test-helper.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "voting-tlog-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const kept = (log: FakeLog, note = log.served): KeptCheckpoint => {
  const c = openLogCheckpoint(note, log.vkey).checkpoint;
  return { size: c.size, root: rootText(c), note };
};

describe("checkpoint store", () => {
  it("when a log is first used, then its key is pinned, and a later different key offered by the server is reported, not used", async () => {
    const store = new CheckpointStore(dir);
    const log = new FakeLog();
    const first = await store.trustedKey(log.origin, log.vkey);
    expect(first).toEqual({ vkey: log.vkey, firstUse: true });
    const other = new FakeLog(log.origin);
    const later = await store.trustedKey(log.origin, other.vkey);
    expect(later).toEqual({ vkey: log.vkey, firstUse: false, changed: other.vkey });
    expect((await stat(join(dir, originDirName(log.origin), "log.vkey"))).mode & 0o777).toBe(0o600);
  });

  it("when --log-key is given, then it overrides and replaces the pinned key", async () => {
    const store = new CheckpointStore(dir);
    const log = new FakeLog();
    const other = new FakeLog(log.origin);
    await store.trustedKey(log.origin, log.vkey);
    expect((await store.trustedKey(log.origin, log.vkey, other.vkey)).vkey).toBe(other.vkey);
    expect(await store.pinnedKey(log.origin)).toBe(other.vkey);
  });

  it("when no key is pinned and the server offers none, then the store refuses", async () => {
    await expect(new CheckpointStore(dir).trustedKey("x/election/1", undefined)).rejects.toThrow(/--log-key/);
  });

  it("when checkpoints are saved, then receipts' stay, an identical note is kept once, and a proven newer verify supersedes older verifies", async () => {
    const store = new CheckpointStore(dir);
    const log = new FakeLog().add(3);
    const o = log.origin;
    const r1 = kept(log);
    await store.save(o, r1, "receipt");
    await store.save(o, r1, "receipt");
    log.add(2);
    await store.save(o, kept(log), "verify", true);
    log.add(2);
    await store.save(o, kept(log), "verify", true);
    const all = await store.list(o);
    expect(all.map((s) => [s.source, s.size])).toEqual([
      ["receipt", 3],
      ["verify", 7],
    ]);
    expect((await stat(join(dir, originDirName(o), "checkpoints.jsonl"))).mode & 0o777).toBe(0o600);
  });

  it("when an origin is '..', then its directory name cannot leave the store", () => {
    expect(originDirName("..")).toBe("%2E.");
    expect(originDirName("a/election/1")).toBe("a%2Felection%2F1");
  });
});

describe("proofs", () => {
  it("when the log only grew, then every kept checkpoint is proven consistent and the entry included", async () => {
    const log = new FakeLog().add(5);
    const k1 = kept(log);
    log.add(1000);
    const k2 = kept(log);
    log.add(37);
    const latest = openLogCheckpoint(log.served, log.vkey, 7);
    expect(await proveAllConsistent(log, [k1, k2, k1], latest)).toBe(2);
    const proof = await proveIncluded(log, 3, leafHash(log.leaves[3]), latest);
    expect(proof.length).toBeLessThanOrEqual(Math.ceil(Math.log2(1042)));
  });

  it("when an early entry is rewritten and re-signed at the same size, then the kept checkpoint and the new one are reported together", async () => {
    const log = new FakeLog().add(12);
    const before = kept(log);
    log.rewrite(2);
    const latest = openLogCheckpoint(log.served, log.vkey);
    const err = await proveAllConsistent(log, [before], latest).catch((e) => e);
    expect(err).toBeInstanceOf(SplitViewError);
    expect(err.reason).toMatch(/size 12 but different roots/);
    expect(err.older).toBe(before.note);
    expect(err.newer).toBe(log.served);
  });

  it("when an early entry is rewritten and the log then grows, then the consistency proof from a kept checkpoint covering it fails", async () => {
    const log = new FakeLog().add(5);
    const before = kept(log);
    log.add(7).rewrite(2).add(3);
    const err = await proveAllConsistent(log, [before], openLogCheckpoint(log.served, log.vkey)).catch((e) => e);
    expect(err).toBeInstanceOf(SplitViewError);
    expect(err.reason).toMatch(/consistency proof from size 5 to size 15 .* does not verify/);
  });

  it("when the rewritten entry is after a kept checkpoint, then that checkpoint stays consistent (it never covered the entry)", async () => {
    const log = new FakeLog().add(2);
    const before = kept(log);
    log.add(10).rewrite(5);
    await expect(proveAllConsistent(log, [before], openLogCheckpoint(log.served, log.vkey))).resolves.toBe(1);
  });

  it("when the log is cut back below a kept checkpoint and re-signed, then the missing proof is reported with both checkpoints", async () => {
    const log = new FakeLog().add(20);
    const before = kept(log);
    log.leaves = log.leaves.slice(0, 15);
    log.rewrite(14);
    const err = await proveAllConsistent(log, [before], openLogCheckpoint(log.served, log.vkey)).catch((e) => e);
    expect(err).toBeInstanceOf(SplitViewError);
    expect(err.reason).toMatch(/cannot prove that its tree of size 15 is a prefix of its tree of size 20/);
    expect([err.older, err.newer]).toEqual([before.note, log.served]);
  });

  it("when a lagging server serves an older checkpoint, then the kept newer one is proven consistent with it", async () => {
    const log = new FakeLog().add(8);
    const older = log.served;
    log.add(8);
    const newer = kept(log);
    log.served = older;
    await expect(proveAllConsistent(log, [newer], openLogCheckpoint(log.served, log.vkey))).resolves.toBe(1);
  });

  it("when the server proves inclusion of another entry, then verify refuses", async () => {
    const log = new FakeLog().add(9);
    const latest = openLogCheckpoint(log.served, log.vkey);
    await expect(proveIncluded(log, 4, leafHash(Buffer.from("not the entry")), latest)).rejects.toThrow(/does not verify/);
  });

  it("when a checkpoint is signed by another key or names another election, then it does not open", () => {
    const log = new FakeLog().add(3);
    const impostor = new FakeLog(log.origin).add(3);
    expect(() => openLogCheckpoint(impostor.served, log.vkey)).toThrow(/not signed by the log key|no verifiable/);
    expect(() => openLogCheckpoint(log.served, log.vkey, 8)).toThrow(/not of election 8/);
  });
});

describe("witness", () => {
  it("when a key file is missing, then one is made with mode 0600 and read back as the same cosigner", async () => {
    const file = join(dir, "witness.key");
    const made = await loadOrCreateWitnessKey(file, "w1.example");
    expect(made.created).toBe(true);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const again = await loadOrCreateWitnessKey(file);
    expect(again.created).toBe(false);
    expect(again.vkey).toBe(made.vkey);
    expect(parseVerifierKey(made.vkey)).toMatchObject({ name: "w1.example", type: 0x04 });
    await writeFile(file, (await readFile(file, "utf8")).replace("w1.example", "w2.example"));
    expect(() => parseWitnessKey(readFileSync(file, "utf8"))).toThrow(/key ID does not match/);
  });

  it("when the log grows, then the witness cosigns each consistent checkpoint, keeps it, and an auditor verifies the cosignature", async () => {
    const log = new FakeLog().add(4);
    const key = await loadOrCreateWitnessKey(join(dir, "k"), "w1.example", () => 1_800_000_000);
    const wdir = new WitnessDir(join(dir, "w"));
    expect(await witnessOnce({ source: log, dir: wdir, key, logKey: log.vkey, electionId: 7 })).toMatchObject({ status: "cosigned", size: 4, from: undefined });
    expect(await witnessOnce({ source: log, dir: wdir, key, logKey: log.vkey, electionId: 7 })).toEqual({ status: "unchanged", size: 4 });
    log.add(100);
    expect(await witnessOnce({ source: log, dir: wdir, key, logKey: log.vkey, electionId: 7 })).toMatchObject({ status: "cosigned", size: 104, from: 4 });
    const latest = (await wdir.latest(log.origin))!;
    const opened = openCheckpoint(latest, { log: verifierFromKey(log.vkey), witnesses: [verifierFromKey(key.vkey)] });
    expect(opened.checkpoint.size).toBe(104);
    expect(opened.cosignatures).toEqual([expect.objectContaining({ name: "w1.example", time: 1_800_000_000 })]);
    expect((await wdir.cosignedNotes(originDirName(log.origin))).length).toBe(2);
  });

  it("when a lagging server serves an older consistent checkpoint, then the witness keeps its larger one and cosigns nothing", async () => {
    const log = new FakeLog().add(10);
    const old = log.served;
    log.add(5);
    const key = await loadOrCreateWitnessKey(join(dir, "k"), "w1.example");
    const wdir = new WitnessDir(join(dir, "w"));
    await witnessOnce({ source: log, dir: wdir, key, logKey: log.vkey, electionId: 7 });
    expect(await witnessOnce({ source: log, dir: wdir, key, logKey: log.vkey, electionId: 7, served: old })).toEqual({ status: "older", size: 10, cosignedSize: 15 });
  });

  it("when the operator rewrites an early entry and re-signs, then the witness refuses to cosign and keeps both checkpoints as evidence", async () => {
    const log = new FakeLog().add(12);
    const key = await loadOrCreateWitnessKey(join(dir, "k"), "w1.example");
    const wdir = new WitnessDir(join(dir, "w"));
    await witnessOnce({ source: log, dir: wdir, key, logKey: log.vkey, electionId: 7 });
    const honest = await wdir.latest(log.origin);
    const honestServed = log.served;
    log.rewrite(1);
    const err = await witnessOnce({ source: log, dir: wdir, key, logKey: log.vkey, electionId: 7 }).catch((e) => e);
    expect(err).toBeInstanceOf(SplitViewError);
    expect(await wdir.latest(log.origin)).toBe(honest);
    const evidence = join(dir, "w", originDirName(log.origin), "evidence");
    const [only] = await readdir(evidence);
    expect(await readFile(join(evidence, only, "served.note"), "utf8")).toBe(log.served);
    expect(await readFile(join(evidence, only, "kept.note"), "utf8")).toContain(honestServed.split("\n\n")[0]);
    expect(await readFile(join(evidence, only, "reason.txt"), "utf8")).toMatch(/different roots/);
  });

  it("when a witness directory is served over HTTP, then the latest cosigned checkpoint is there and nothing outside the directory is", async () => {
    const log = new FakeLog().add(3);
    const key = await loadOrCreateWitnessKey(join(dir, "k"), "w1.example");
    const wdir = new WitnessDir(join(dir, "w"));
    await witnessOnce({ source: log, dir: wdir, key, logKey: log.vkey, electionId: 7 });
    const server = await serveWitnessDir(join(dir, "w"), 0);
    try {
      const port = (server.address() as { port: number }).port;
      const base = `http://127.0.0.1:${port}`;
      const get = async (path: string, init?: RequestInit) => {
        const r = await fetch(base + path, init);
        return { status: r.status, text: await r.text() };
      };
      expect(await get(`/${originDirName(log.origin)}/checkpoint`)).toEqual({ status: 200, text: await wdir.latest(log.origin) });
      expect(await get("/")).toEqual({ status: 200, text: `${originDirName(log.origin)}\n` });
      expect((await get(`/${originDirName(log.origin)}/cosigned`)).text).toBe("3\n");
      expect((await get("/%2E%2E/k")).status).toBe(404);
      expect((await get(`/${originDirName(log.origin)}/..%2F..%2Fk`)).status).toBe(404);
      expect((await get("/", { method: "POST" })).status).toBe(405);
      const opened = openCheckpoint((await get(`/${originDirName(log.origin)}/checkpoint`)).text, { log: verifierFromKey(log.vkey), witnesses: [verifierFromKey(key.vkey)] });
      expect(opened.cosignatures).toHaveLength(1);
    } finally {
      server.close();
    }
  });
});
