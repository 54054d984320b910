import { describe, expect, it } from "vitest";
import { resultsOf } from "./results.js";
import type { ElectionInfo } from "./tally-book.js";

function fixture() {
  const info: ElectionInfo = { id: 1, title: "Board", method: "plurality", seats: 1, state: "open", resultsWhileOpen: true, ballotCount: 0, genesisHash: "0".repeat(64), logFormat: 2, candidates: [{ id: 1, name: "A" }, { id: 2, name: "B" }] };
  const state = { lastSeq: 0, lastHash: "0".repeat(64), ballots: new Map<string, number>() };
  const alarms: string[] = [];
  let signed = 0;
  // As the tally book: result() reads the election's info again (here every time, as if its
  // TTL had run out), peekResult() gives the info last read while it is fresh.
  let read: ElectionInfo | undefined;
  let fresh = true;
  const book = {
    result: async () => ((read = { ...info }), (fresh = true), { info: read, state }),
    peekResult: () => (read && fresh ? { info: read, state } : undefined),
    refreshInfo: () => {},
  };
  const results = resultsOf(book, async () => `statement ${++signed}`, () => alarms);
  const count = (key: string) => {
    state.ballots.set(key, (state.ballots.get(key) ?? 0) + 1);
    state.lastSeq += 1;
  };
  return { info, state, alarms, results, count, signed: () => signed, expireInfo: () => (fresh = false), rereadInfo: () => ((read = { ...info }), (fresh = true)) };
}

describe("the materialised result", () => {
  it("is one result object while nothing that changes the answer changes", async () => {
    const f = fixture();
    f.count("1");
    const a = await f.results.fresh(1);
    expect(await f.results.fresh(1)).toBe(a);
    expect(a.totalBallots).toBe(1);
    expect(a.tally!.winners).toEqual([1]);
  });

  it("is recomputed after new ballots, an alarm, an embargo and a close, and signs the final result once", async () => {
    const f = fixture();
    f.count("1");
    const a = await f.results.fresh(1);
    f.count("2");
    f.count("2");
    const b = await f.results.fresh(1);
    expect(b).not.toBe(a);
    expect([b.totalBallots, b.countedThroughSeq, b.tally!.winners]).toEqual([3, 3, [2]]);
    // The result read the live state: counting more later does not change what it said.
    expect(a.totalBallots).toBe(1);

    f.alarms.push("ballot-chain: broken");
    const c = await f.results.fresh(1);
    expect(c.integrityAlarms).toEqual(["ballot-chain: broken"]);

    f.info.resultsWhileOpen = false;
    const d = await f.results.fresh(1);
    expect([d.embargoed, d.tally, d.totalBallots]).toEqual([true, undefined, 3]);

    Object.assign(f.info, { state: "closed", ballotCount: 3 });
    const e = await f.results.fresh(1);
    expect([e.final, e.embargoed, e.statement, e.tally!.winners]).toEqual([true, false, "statement 1", [2]]);
    expect(await f.results.fresh(1)).toBe(e);
    expect(f.signed()).toBe(1);
  });

  it("is answered without waiting only while what it was made from is still live: the info object read, the counted seq and the alarms", async () => {
    const f = fixture();
    expect(f.results.peek(1)).toBeUndefined();
    f.count("1");
    const a = await f.results.current(1);
    expect(f.results.peek(1)).toBe(a);

    f.count("2");
    expect(f.results.peek(1)).toBeUndefined();
    const b = await f.results.current(1);
    expect(b.totalBallots).toBe(2);
    expect(f.results.peek(1)).toBe(b);

    f.alarms.push("ballot-chain: broken");
    expect(f.results.peek(1)).toBeUndefined();
    const c = await f.results.current(1);
    expect(c.integrityAlarms).toEqual(["ballot-chain: broken"]);
    expect(f.results.peek(1)).toBe(c);

    // Info read again with the same content: the same result, and peek answers again.
    f.expireInfo();
    expect(f.results.peek(1)).toBeUndefined();
    expect(await f.results.current(1)).toBe(c);
    expect(f.results.peek(1)).toBe(c);

    // Changed info is seen once it is read again (its TTL), not before: as result() did.
    f.info.title = "Board of trustees";
    expect(f.results.peek(1)).toBe(c);
    f.expireInfo();
    expect(f.results.peek(1)).toBeUndefined();
    const d = await f.results.current(1);
    expect(d.title).toBe("Board of trustees");
    expect(f.results.peek(1)).toBe(d);

    // Info read again by someone else (the book's own lookups): not the object d was made from.
    f.info.title = "Board";
    f.rereadInfo();
    expect(f.results.peek(1)).toBeUndefined();
    expect((await f.results.current(1)).title).toBe("Board");
  });
});
