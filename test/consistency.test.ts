// Published figures that belong together are read together, even while ballots pour in.
import { expect, it } from "vitest";
import { openDatabase, migrate } from "@voting/server-kit";
import { describeOnStores } from "./harness.js";
import { tallyRepository } from "../tally-server/src/db/tally-repository.js";
import { tallyMigrations } from "../tally-server/src/db/migrations.js";

describeOnStores("consistent reads", (system) => {
  it("when GetElection is read during casting, then ballot_count and log_head_hash describe the same head", async () => {
    const sys = system();
    const cand = await sys.user("candidate");
    const voters = await Promise.all(Array.from({ length: 120 }, () => sys.user("voter")));
    const anon = sys.client();
    const seen: { count: number; head: string }[] = [];
    let done = false;
    const poller = (async () => {
      while (!done) {
        const e = (await anon.elections.getElection({})).election!;
        seen.push({ count: e.ballotCount, head: e.logHeadHash });
      }
    })();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < voters.length) await sys.client(voters[next++].token).votes.castVote({ ballot: { choices: [cand.id] } });
      }),
    );
    done = true;
    await poller;
    const genesis = (await anon.elections.getElection({})).election!.logGenesisHash;
    const hashes = [genesis];
    for await (const m of await anon.votes.streamBallots({ afterSeq: 0 })) hashes.push(...m.entries.map((e) => e.hash));
    expect(seen.length).toBeGreaterThan(5);
    expect(seen.filter((s) => hashes[s.count] !== s.head)).toEqual([]);
  });

  it("when two tally-servers make an election's first apply at once, then one wins and the other is told, without an error", async () => {
    const sys = system();
    const db = openDatabase<any>(sys.databaseUrl);
    try {
      await migrate(db, "tally_migrations", tallyMigrations());
      const repo = tallyRepository(db);
      const to = { seq: 1, hash: "ab".repeat(32) };
      const change = { electionId: 777, fromSeq: 0, to, delta: new Map([["1", 1]]) };
      const results = await Promise.all([repo.apply([change]), repo.apply([change])]);
      expect(results.flat().sort()).toEqual([false, true]);
      expect((await repo.load(777))!.ballots).toEqual(new Map([["1", 1]]));
    } finally {
      await db.close();
    }
  });
});
