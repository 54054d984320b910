import { describe, expect, it } from "vitest";
import type { LogRow } from "../db/ballot-repository.js";
import { logFeed, type LogFollower } from "./log-feed.js";

/** An in-memory log of one election that counts reads. */
function memoryLog() {
  const rows: LogRow[] = [];
  const log = {
    reads: 0,
    append(n: number) {
      for (let i = 0; i < n; i++) {
        const seq = rows.length + 1;
        rows.push({ electionId: 1, seq, trackingCode: `T${seq}`, choices: "1", hash: `h${seq}` });
      }
      return rows.length;
    },
    async readLog(_id: number, after: number, limit: number) {
      log.reads++;
      return rows.filter((r) => r.seq > after).slice(0, limit);
    },
    async headSeq() {
      return rows.length;
    },
  };
  return log;
}

async function take(f: LogFollower, count: number): Promise<number[]> {
  const seqs: number[] = [];
  while (seqs.length < count) {
    const batches = await f.next();
    if (!batches) break;
    for (const b of batches) seqs.push(...b.rows.map((r) => r.seq));
  }
  return seqs;
}

const upTo = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("log feed", () => {
  it("when a follower starts behind, then it reads pages, joins the tail and gets every later entry in order", async () => {
    const log = memoryLog();
    log.append(23);
    const feed = logFeed(log, { pageEntries: 5, maxQueuedEntries: 1000, pollMs: 10_000 });
    const f = feed.follow(1, 0, true);
    expect(await take(f, 23)).toEqual(upTo(1, 23));
    const more = take(f, 12);
    await new Promise((r) => setTimeout(r, 10));
    feed.appended(1, log.append(12));
    expect(await more).toEqual(upTo(24, 35));
    f.close();
    expect(feed.stats()).toMatchObject({ followers: 0, tails: 0 });
  });

  it("when many follow live, then one read per append serves them all, and the mapping objects are shared", async () => {
    const log = memoryLog();
    log.append(1);
    const feed = logFeed(log, { pageEntries: 100, maxQueuedEntries: 1000, pollMs: 10_000 });
    const followers = Array.from({ length: 50 }, () => feed.follow(1, 0, true));
    await Promise.all(followers.map((f) => take(f, 1)));
    const before = log.reads;
    const next = followers.map((f) => f.next());
    feed.appended(1, log.append(3));
    const got = await Promise.all(next);
    expect(log.reads - before).toBe(1);
    expect(new Set(got.map((b) => b![0])).size).toBe(1);
    for (const f of followers) f.close();
  });

  it("when a follower does not take its entries, then it is dropped with RESOURCE_EXHAUSTED and the others go on", async () => {
    const log = memoryLog();
    const feed = logFeed(log, { pageEntries: 100, maxQueuedEntries: 5, pollMs: 10_000, fanoutRest: 0 });
    const slow = feed.follow(1, 0, true);
    const fast = feed.follow(1, 0, true);
    const slowFirst = slow.next(); // joins, then never asks again
    const seen: number[] = [];
    const reading = (async () => {
      while (seen.length < 10) for (const b of (await fast.next()) ?? []) seen.push(...b.rows.map((r) => r.seq));
    })();
    await new Promise((r) => setTimeout(r, 10));
    for (let i = 0; i < 10; i++) {
      feed.appended(1, log.append(1));
      await new Promise((r) => setTimeout(r, 2));
    }
    await reading;
    expect(seen).toEqual(upTo(1, 10));
    await slowFirst;
    await expect(slow.next()).rejects.toMatchObject({ kind: "resource-exhausted", message: expect.stringMatching(/reader too slow/) });
    expect(feed.stats().followers).toBe(1);
    fast.close();
  });

  it("when a waiting follower is closed, then next() ends at once and the tail stops", async () => {
    const log = memoryLog();
    const feed = logFeed(log, { pageEntries: 10, maxQueuedEntries: 100, pollMs: 5 });
    const f = feed.follow(1, 0, true);
    const waiting = f.next();
    await new Promise((r) => setTimeout(r, 20));
    expect(feed.stats().tails).toBe(1);
    f.close();
    expect(await waiting).toBeUndefined();
    expect(feed.stats()).toMatchObject({ followers: 0, tails: 0 });
    const reads = log.reads;
    await new Promise((r) => setTimeout(r, 30));
    expect(log.reads).toBe(reads);
  });

  it("when not following, then the reader ends after the last page", async () => {
    const log = memoryLog();
    log.append(12);
    const feed = logFeed(log, { pageEntries: 5, maxQueuedEntries: 100 });
    const f = feed.follow(1, 2, false);
    expect(await take(f, 100)).toEqual(upTo(3, 12));
    expect(await f.next()).toBeUndefined();
    expect(feed.stats()).toMatchObject({ followers: 0, tails: 0 });
  });

  it("when this replica announces an append with its entries, then the tail serves them without a store read; a gap (another replica's entries) is read from the store", async () => {
    const log = memoryLog();
    log.append(2);
    const feed = logFeed(log, { pageEntries: 100, maxQueuedEntries: 1000, pollMs: 10_000 });
    const f = feed.follow(1, 0, true);
    expect(await take(f, 2)).toEqual([1, 2]);
    const next = take(f, 3);
    await new Promise((r) => setTimeout(r, 10)); // it joins the tail
    const before = log.reads;
    const head = log.append(3);
    const row = (seq: number) => ({ electionId: 1, seq, trackingCode: `T${seq}`, choices: "1", hash: `h${seq}` });
    feed.appended(1, head, [row(3), row(4), row(5)]);
    expect(await next).toEqual([3, 4, 5]);
    expect(log.reads - before).toBe(0);
    // Entries 6-7 come from elsewhere; 8 is announced here: the tail reads 6-8 from the store.
    log.append(2);
    const eight = log.append(1);
    const gap = take(f, 3);
    feed.appended(1, eight, [row(8)]);
    expect(await gap).toEqual([6, 7, 8]);
    expect(log.reads - before).toBe(1);
    f.close();
  });
});
