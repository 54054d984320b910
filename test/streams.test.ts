// Public streams cannot starve voting: limits per caller and per server, slow readers
// dropped, cancelled streams freed at once, and one log reader per election however many follow.
import { expect, it } from "vitest";
import { credentials, Metadata, type ClientReadableStream } from "@grpc/grpc-js";
import { checkChain } from "@voting/election-core";
import { createVotingClient, Status, voteV1, type VotingClient } from "@voting/client";
import { startVoteServer, readVoteConfig, type RunningVoteServer } from "@voting/vote-server";
import { createLogger } from "@voting/server-kit";
import { describeOnStores, eventually, uniqueName, type System } from "./harness.js";

const M = voteV1.BallotMethod;

type Stream = ClientReadableStream<{ entries?: voteV1.BallotLogEntry[]; result?: unknown }>;

/** Resolves "ok" on the stream's first message, else with its error code. */
function firstAnswer(s: Stream): Promise<"ok" | Status> {
  return new Promise((resolve) => {
    s.once("data", () => resolve("ok"));
    s.once("error", (e: { code: Status }) => resolve(e.code));
    s.once("end", () => resolve(Status.OK));
  });
}

/** An open election (results visible unless embargoed) holding `ballots` ballots. */
async function electionWith(sys: System, ballots: number, resultsWhileOpen = true) {
  const admin = sys.client(await sys.adminToken());
  const { election } = await admin.elections.createElection({ title: uniqueName("Streams"), method: M.BALLOT_METHOD_PLURALITY, candidates: ["A", "B"], resultsWhileOpen });
  await admin.elections.openElection({ electionId: election!.id });
  const id = election!.id;
  const vote = async (n: number, client?: (token: string) => VotingClient) => {
    const voters = await Promise.all(Array.from({ length: n }, () => sys.user("voter")));
    await Promise.all(voters.map((v, i) => (client ?? sys.client)(v.token).votes.castVote({ electionId: id, ballot: { choices: [1 + (i % 2)] } })));
  };
  await vote(ballots);
  const genesis = (await admin.elections.getElection({ electionId: id })).election!.logGenesisHash;
  return { id, admin, vote, genesis };
}

async function follow(client: VotingClient, electionId: number): Promise<{ stream: Stream; answer: "ok" | Status }> {
  const stream = (await client.votes.streamBallots({ electionId, afterSeq: 0, follow: true })) as Stream;
  stream.on("error", () => undefined);
  return { stream, answer: await firstAnswer(stream) };
}

async function watch(client: VotingClient, electionId: number): Promise<{ stream: Stream; answer: "ok" | Status }> {
  const stream = (await client.tally.watchResults({ electionId })) as Stream;
  stream.on("error", () => undefined);
  return { stream, answer: await firstAnswer(stream) };
}

/** Collects every entry a follow stream delivers. */
function collect(stream: Stream) {
  const seqs: number[] = [];
  const entries: voteV1.BallotLogEntry[] = [];
  let error: { code: Status; details: string } | undefined;
  stream.on("data", (m: { entries: voteV1.BallotLogEntry[] }) => {
    entries.push(...m.entries);
    seqs.push(...m.entries.map((e) => e.seq));
  });
  stream.on("error", (e: { code: Status; details: string }) => (error = e));
  return { seqs, entries, error: () => error };
}

const upTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describeOnStores(
  "stream limits per caller",
  (system) => {
    it("when a user opens more follow streams than allowed, then RESOURCE_EXHAUSTED, another user still gets one, and a cancelled one makes room", async () => {
      const sys = system();
      const { id } = await electionWith(sys, 1);
      const alice = sys.client((await sys.user("voter")).token);
      const bob = sys.client((await sys.user("voter")).token);
      const open = await Promise.all([1, 2, 3].map(() => follow(alice, id)));
      expect(open.map((o) => o.answer)).toEqual(["ok", "ok", "ok"]);
      const refused = await follow(alice, id);
      expect(refused.answer).toBe(Status.RESOURCE_EXHAUSTED);
      const bobs = await follow(bob, id);
      expect(bobs.answer).toBe("ok");
      open[0].stream.cancel();
      const again = await eventually(async () => {
        const s = await follow(alice, id);
        return s.answer === "ok" ? s : undefined;
      });
      for (const s of [...open, bobs, again]) s.stream.cancel();
    });

    it("when anonymous callers from one address open more follow streams or watches than allowed, then RESOURCE_EXHAUSTED", async () => {
      const sys = system();
      const { id } = await electionWith(sys, 1);
      const anon = sys.client();
      const open = await Promise.all([1, 2, 3].map(() => follow(anon, id)));
      expect(open.map((o) => o.answer)).toEqual(["ok", "ok", "ok"]);
      const refused = (await client2(sys).votes.streamBallots({ electionId: id, follow: true })) as Stream;
      refused.on("error", () => undefined);
      await expect(new Promise((_, reject) => refused.once("error", reject))).rejects.toMatchObject({ code: Status.RESOURCE_EXHAUSTED, details: expect.stringMatching(/too many open streams/) });

      const watches = await Promise.all([1, 2, 3].map(() => watch(anon, id)));
      expect(watches.map((o) => o.answer)).toEqual(["ok", "ok", "ok"]);
      expect((await watch(client2(sys), id)).answer).toBe(Status.RESOURCE_EXHAUSTED);
      for (const s of [...open, ...watches]) s.stream.cancel();
      // Freed at once: the next caller from this address gets a stream.
      const next = await eventually(async () => {
        const s = await follow(anon, id);
        return s.answer === "ok" ? s : undefined;
      });
      next.stream.cancel();
      // Reads that end by themselves give their slot back too: more of them in a row than the limit.
      for (let i = 0; i < 5; i++) {
        const entries = [];
        for await (const m of await anon.votes.streamBallots({ electionId: id, afterSeq: 0 })) entries.push(...m.entries);
        expect(entries.length).toBe(1);
      }
    });
  },
  { STREAM_MAX_PER_CALLER: "3" },
);

/** A second client of the same system: a different connection from the same address. */
const client2 = (sys: System) => sys.client();

describeOnStores(
  "stream limits per server",
  (system) => {
    it("when the server holds its most streams, then any further caller gets RESOURCE_EXHAUSTED until one ends", async () => {
      const sys = system();
      const { id } = await electionWith(sys, 1);
      const [a, b, c] = await Promise.all([1, 2, 3].map(async () => sys.client((await sys.user("voter")).token)));
      const open = [...(await Promise.all([1, 2, 3].map(() => follow(a, id)))), await follow(b, id)];
      expect(open.map((o) => o.answer)).toEqual(["ok", "ok", "ok", "ok"]);
      const refused = (await c.votes.streamBallots({ electionId: id, follow: true })) as Stream;
      await expect(new Promise((_, reject) => refused.once("error", reject))).rejects.toMatchObject({ code: Status.RESOURCE_EXHAUSTED, details: expect.stringMatching(/server/) });
      open[3].stream.cancel();
      const later = await eventually(async () => {
        const s = await follow(c, id);
        return s.answer === "ok" ? s : undefined;
      });
      // WatchResults on tally-server has the same limit.
      const watches = await Promise.all([a, a, b, b].map((x) => watch(x, id)));
      expect(watches.map((o) => o.answer)).toEqual(["ok", "ok", "ok", "ok"]);
      expect((await watch(c, id)).answer).toBe(Status.RESOURCE_EXHAUSTED);
      for (const s of [...open, later, ...watches]) s.stream.cancel();
    });
  },
  { STREAM_MAX_PER_CALLER: "3", STREAM_MAX_PER_SERVER: "4" },
);

describeOnStores(
  "slow followers",
  (system) => {
    it("when a follower never reads, then it is dropped with RESOURCE_EXHAUSTED while voting and the other followers go on", async () => {
      const sys = system();
      const { id, vote } = await electionWith(sys, 1);
      // A raw client with a tiny HTTP/2 window, so the server's buffers fill quickly.
      const raw = new voteV1.VoteServiceClient(sys.addrs.vote, credentials.createInsecure(), { "grpc-node.flow_control_window": 256, "grpc.use_local_subchannel_pool": 1 });
      const stuck = raw.streamBallots({ electionId: id, afterSeq: 0, follow: true }, new Metadata()) as unknown as Stream;
      const stuckSeen = collect(stuck);
      await new Promise((r) => stuck.once("data", r));
      stuck.pause(); // never reads from here on
      const reader = collect((await sys.client().votes.streamBallots({ electionId: id, afterSeq: 0, follow: true })) as Stream);
      // HTTP/2 and grpc-js buffers on both sides take a few hundred small messages first.
      for (let i = 0; i < 15; i++) await vote(20); // every ballot is acknowledged
      await eventually(async () => (reader.seqs.length === 301 ? true : undefined), 20_000, "the reading follower sees every ballot");
      expect(reader.seqs).toEqual(upTo(301));
      expect(reader.error()).toBeUndefined();
      stuck.resume();
      const dropped = await eventually(async () => stuckSeen.error(), 20_000, "the stuck follower is dropped");
      expect(dropped).toMatchObject({ code: Status.RESOURCE_EXHAUSTED, details: expect.stringMatching(/reader too slow/) });
      expect(stuckSeen.seqs).toEqual(upTo(stuckSeen.seqs.length)); // what it got has no gaps
      expect(stuckSeen.seqs.length).toBeLessThan(301);
      raw.close();
    });
  },
  { VOTE_STREAM_MAX_QUEUED_ENTRIES: "10", VOTE_STREAM_PAGE_ENTRIES: "1" },
);

describeOnStores(
  "one log reader per election",
  (system) => {
    let replica: RunningVoteServer | undefined;
    const clients: VotingClient[] = [];
    const second = async (sys: System) => {
      replica ??= await startVoteServer(readVoteConfig({ ...sys.env, VOTE_PORT: "0" }), createLogger("test", "silent"));
      const addr = `127.0.0.1:${replica.port}`;
      return {
        server: replica,
        client: (token?: string) => {
          const c = createVotingClient({ authAddr: sys.addrs.auth, voteAddr: addr, tallyAddr: sys.addrs.tally, token, waitForReady: true });
          clients.push(c);
          return c;
        },
      };
    };

    it("when a follow stream is cancelled, then its slot is freed and nothing reads the log for it any more", async () => {
      const sys = system();
      const { id } = await electionWith(sys, 2);
      const { server, client } = await second(sys);
      const { stream, answer } = await follow(client(), id);
      expect(answer).toBe("ok");
      await eventually(async () => (server.streamStats().streams === 1 && server.streamStats().followers === 1 ? true : undefined));
      stream.cancel();
      await eventually(async () => (server.streamStats().streams === 0 && server.streamStats().followers === 0 ? true : undefined), 5_000, "slot and follower freed");
      expect(server.streamStats().tails).toBe(0); // and with it the tail's poll timer
      const reads = server.streamStats().logReads;
      await new Promise((r) => setTimeout(r, 1_500)); // three poll intervals
      expect(server.streamStats().logReads).toBe(reads);
    });

    it("when many follow, then each append costs O(1) log reads, not one per follower", async () => {
      const sys = system();
      const { id, vote } = await electionWith(sys, 1);
      const { server, client } = await second(sys);
      const followers = await Promise.all(Array.from({ length: 30 }, async () => {
        const stream = (await client().votes.streamBallots({ electionId: id, afterSeq: 0, follow: true })) as Stream;
        const seen = collect(stream);
        await eventually(async () => (seen.seqs.length === 1 ? true : undefined));
        return { stream, seen };
      }));
      const before = server.streamStats().logReads;
      for (let i = 0; i < 10; i++) await vote(1, client);
      await eventually(async () => (followers.every((f) => f.seen.seqs.length === 11) ? true : undefined), 20_000);
      const reads = server.streamStats().logReads - before;
      // 30 followers x 10 appends would be 300 reads; one reader per election does about one per append (plus polls).
      expect(reads).toBeLessThan(60);
      for (const f of followers) expect(f.seen.seqs).toEqual(upTo(11));
      for (const f of followers) f.stream.cancel();
    });

    it("when entries come in pages and from another replica, then a live follower gets every entry in order, without gaps", async () => {
      const sys = system();
      const { id, vote, genesis } = await electionWith(sys, 12);
      const { client } = await second(sys);
      const anon = sys.client();
      const seen = collect((await anon.votes.streamBallots({ electionId: id, afterSeq: 0, follow: true })) as Stream);
      await eventually(async () => (seen.seqs.length === 12 ? true : undefined));
      await vote(13, client); // appended by the second replica: found by polling
      await vote(7); // and by this one
      const late = collect((await anon.votes.streamBallots({ electionId: id, afterSeq: 3, follow: true })) as Stream);
      await vote(4, client);
      await eventually(async () => (seen.seqs.length >= 36 && late.seqs.length >= 33 ? true : undefined), 20_000);
      expect(seen.seqs).toEqual(upTo(36));
      expect(late.seqs).toEqual(upTo(36).slice(3));
      const chain = checkChain(
        2,
        { seq: 0, hash: genesis },
        seen.entries.map((e) => ({ electionId: e.electionId, seq: e.seq, trackingCode: e.trackingCode, commitment: e.commitment, choices: e.ballot!.choices, salt: e.salt, hash: e.hash })),
        { requireBallots: true },
      );
      expect(chain).toMatchObject({ ok: true, headSeq: 36 });
    });

    it("when an embargoed election is followed while the tally follows it too, then the public stream never shows ballot content", async () => {
      const sys = system();
      const { id, vote, admin } = await electionWith(sys, 3, false);
      const seen = collect((await sys.client().votes.streamBallots({ electionId: id, afterSeq: 0, follow: true })) as Stream);
      await vote(5);
      await eventually(async () => (seen.seqs.length === 8 ? true : undefined));
      // The tally (the service account, which sees content) counted them from the same tail.
      await eventually(async () => ((await sys.client().tally.getResults({ electionId: id })).result!.totalBallots === 8 ? true : undefined));
      expect(seen.entries.every((e) => e.ballot === undefined)).toBe(true);
      await admin.elections.closeElection({ electionId: id });
      const after = collect((await sys.client().votes.streamBallots({ electionId: id, afterSeq: 0 })) as Stream);
      await eventually(async () => (after.seqs.length === 8 ? true : undefined));
      expect(after.entries.every((e) => e.ballot!.choices.length === 1)).toBe(true);
    });

    it("after all, the second replica stops", async () => {
      for (const c of clients) c.close();
      await replica?.stop();
      replica = undefined;
    });
  },
  { VOTE_STREAM_PAGE_ENTRIES: "5" },
);
