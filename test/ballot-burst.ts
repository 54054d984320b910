// A burst of ballots that voters keep retrying with the same idempotency key until it is
// acknowledged, and the checks of the log against the acknowledgements: shared by the fault
// suites whose database stops, crashes or loses a cluster node meanwhile.
import { expect } from "vitest";
import { checkChain } from "@voting/election-core";
import { isServiceError, newIdempotencyKey, Status, type VotingClient, voteV1 } from "@voting/client";
import { cliEnv, eventually, runCli, type System } from "./harness.js";

export interface Voter {
  id: number;
  token: string;
  choice: number;
  key: Buffer;
}

export type Entry = { seq: number; trackingCode: string; choices: number[]; hash: string; commitment: string; salt: string; electionId: number };

export interface BurstResult {
  receipts: Map<number, voteV1.Receipt>;
  /** Ballots whose acknowledgement took more than one CastVote try (the client's own retries or the voter's). */
  retried: number;
  /** Ballots the voter had to send again after the client gave up. */
  resent: number;
  /** Longest time from a ballot's first try to its acknowledgement, ms. */
  slowestMs: number;
  /** Final errors of ballots never acknowledged (none expected). */
  errors: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const codeName = (err: unknown) => (isServiceError(err) ? (Status[err.code] ?? String(err.code)) : `non-gRPC: ${(err as Error)?.message}`);
/** What a voter's app may send again with the same key: nothing was refused. */
const transient = (err: unknown) => isServiceError(err) && [Status.UNAVAILABLE, Status.DEADLINE_EXCEEDED, Status.CANCELLED].includes(err.code);

export function votersFor(users: { id: number; token: string }[], candidates: number[]): Voter[] {
  return users.map((u, i) => ({ ...u, choice: candidates[i % candidates.length], key: newIdempotencyKey() }));
}

/**
 * Casts every voter's ballot with one call in flight per worker; each worker has its own
 * clients (so their retry counts belong to its ballot), and a ballot that fails with a
 * transient error is sent again with the same key, through the worker's next client (another
 * replica, as a load balancer would), until giveUpMs. onAck sees the count of acknowledgements.
 */
export async function castBurst(opts: { voters: Voter[]; electionId: number; workers: VotingClient[][]; giveUpMs: number; onAck?(acks: number): void }): Promise<BurstResult> {
  const out: BurstResult = { receipts: new Map(), retried: 0, resent: 0, slowestMs: 0, errors: [] };
  const end = Date.now() + opts.giveUpMs;
  let next = 0;
  await Promise.all(
    opts.workers.map(async (clients) => {
      const retries = () => clients.reduce((n, c) => n + c.retryStats().retries, 0);
      let turn = 0;
      while (next < opts.voters.length) {
        const i = next++;
        const v = opts.voters[i];
        const before = retries();
        const started = Date.now();
        for (let sends = 1; ; sends++) {
          const client = clients[turn % clients.length];
          try {
            const { receipt } = await client.votes.castVote({ electionId: opts.electionId, ballot: { choices: [v.choice] }, idempotencyKey: v.key }, { token: v.token, deadlineMs: 10_000 });
            out.receipts.set(i, receipt!);
            if (sends > 1) out.resent++;
            if (sends > 1 || retries() > before) out.retried++;
            out.slowestMs = Math.max(out.slowestMs, Date.now() - started);
            opts.onAck?.(out.receipts.size);
            break;
          } catch (err) {
            if (!transient(err) || Date.now() > end) {
              out.errors.push(`voter ${i}: ${codeName(err)} ${(err as Error).message}`);
              break;
            }
            turn++; // the next try, and the worker's next ballots, go to its next client
            await sleep(250);
          }
        }
      }
    }),
  );
  return out;
}

/** The whole log of an election, read (not followed). */
export async function readLog(client: VotingClient, electionId: number): Promise<Entry[]> {
  const entries: Entry[] = [];
  const stream = await client.votes.streamBallots({ electionId, afterSeq: 0 }, { deadlineMs: 30_000 });
  for await (const msg of stream as AsyncIterable<voteV1.StreamBallotsResponse>) {
    for (const e of msg.entries) entries.push({ electionId: e.electionId, seq: e.seq, trackingCode: e.trackingCode, commitment: e.commitment, choices: e.ballot?.choices ?? [], salt: e.salt, hash: e.hash });
  }
  return entries;
}

/**
 * Every acknowledged ballot is in the log exactly once, with the voter's choice, at its
 * receipt's seq; the log holds nothing else (no ballot without an acknowledgement), has no
 * gaps, and its chain verifies from the genesis hash to the election's head.
 */
export function expectLogMatchesReceipts(entries: Entry[], election: voteV1.Election, voters: Voter[], receipts: Map<number, voteV1.Receipt>): void {
  expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: entries.length }, (_, i) => i + 1));
  const chain = checkChain(2, { seq: 0, hash: election.logGenesisHash }, entries, { requireBallots: true });
  expect(chain).toEqual({ ok: true, headSeq: entries.length, headHash: election.logHeadHash, sealed: 0 });
  expect(election.ballotCount).toBe(entries.length);
  expect(election.turnout).toBe(entries.length);
  expect(entries.length).toBe(receipts.size);
  expect(new Set(entries.map((e) => e.trackingCode)).size).toBe(entries.length);
  for (const [i, r] of receipts) {
    const e = entries[r.seq - 1];
    expect({ seq: e?.seq, hash: e?.hash, trackingCode: e?.trackingCode, choices: e?.choices }, `receipt of voter ${i}`).toEqual({ seq: r.seq, hash: r.ballotHash, trackingCode: r.trackingCode, choices: [voters[i].choice] });
  }
}

/** The final result equals a recount of the log, and `voting audit` of the (closed) election passes. */
export async function expectTallyAndAuditPass(sys: System, electionId: number, entries: Entry[], cliConfigDir: string): Promise<void> {
  const recount = new Map<number, number>();
  for (const e of entries) recount.set(e.choices[0], (recount.get(e.choices[0]) ?? 0) + 1);
  const reader = sys.client();
  const result = await eventually(async () => {
    const r = (await reader.tally.getResults({ electionId })).result!;
    return r.final ? r : undefined;
  }, 60_000, "final result");
  expect(new Map(result.candidates.filter((c) => Number(c.votes) > 0).map((c) => [c.candidateId, Number(c.votes)]))).toEqual(recount);
  const audit = await runCli(["audit", "--election", String(electionId), "--json"], cliEnv(sys, cliConfigDir));
  expect(audit.stderr).toBe("");
  expect(JSON.parse(audit.stdout)).toMatchObject({ electionId, ballots: entries.length, turnout: entries.length, final: true, ok: true });
}

export const percent = (part: number, whole: number) => `${((100 * part) / Math.max(1, whole)).toFixed(1)}%`;
