import { insertRows, writeTransaction, type Database } from "@voting/server-kit";
import type { VoteDb } from "./schema.js";
import { toElection } from "./election-repository.js";
import type { Election } from "../domain/elections.js";
import type { StoredNode } from "@voting/election-core";
import { insertNodes, readFrontier, type StoredCheckpoint } from "./log-repository.js";

export interface LogRow {
  electionId: number;
  seq: number;
  trackingCode: string;
  choices: string;
  hash: string;
  /** Format 2: commitment and salt, hex; "" in format 1. */
  commitment: string;
  salt: string;
}

export interface Participation {
  voterId: number;
  commitment: string;
  sealedReceipt: string;
}

/** What the domain decided to append, given the locked head and earlier participations. */
export interface AppendPlan {
  participations: Participation[];
  entries: LogRow[];
  head: { seq: number; hash: string };
  /** Format 2: the tree nodes the entries complete and the checkpoint of the new head. */
  tlog?: { nodes: StoredNode[]; checkpoint: StoredCheckpoint };
}

export interface BallotRepository {
  /**
   * In one transaction that holds the election's log head: reads the head and the
   * participations of these voters (and, in format 2, the tree's right frontier), lets `plan`
   * decide, writes what it returns.
   */
  append<T>(
    electionId: number,
    voterIds: number[],
    plan: (election: Election, existing: Map<number, Participation>, frontier: StoredNode[] | undefined) => { plan: AppendPlan | undefined; result: T },
  ): Promise<T>;
  readLog(electionId: number, afterSeq: number, limit: number): Promise<LogRow[]>;
  /** The election's head, log size and turnout, read in one snapshot, for reconciliation. */
  ledger(electionId: number): Promise<{ headSeq: number; headHash: string; ballots: number; maxSeq: number; turnout: number }>;
  findByTrackingCode(code: string): Promise<LogRow | undefined>;
  /** Which of these elections this voter has voted in. */
  votedIn(electionIds: number[], voterId: number): Promise<Set<number>>;
}

const toLogRow = (r: VoteDb["ballots"]): LogRow => ({
  electionId: Number(r.election_id),
  seq: Number(r.seq),
  trackingCode: r.tracking_code,
  choices: r.choices,
  hash: r.hash,
  commitment: r.commitment,
  salt: r.salt,
});

// Columns of the rows an append writes, in the order of their values.
const PARTICIPATIONS = "participations" satisfies keyof VoteDb;
const PARTICIPATION_COLUMNS = ["election_id", "voter_id", "commitment", "sealed_receipt"] as const satisfies readonly (keyof VoteDb["participations"])[];
const BALLOTS = "ballots" satisfies keyof VoteDb;
const BALLOT_COLUMNS = ["election_id", "seq", "tracking_code", "choices", "hash", "commitment", "salt"] as const satisfies readonly (keyof VoteDb["ballots"])[];

export function ballotRepository(db: Database<VoteDb>): BallotRepository {
  const k = db.kysely;
  return {
    append(electionId, voterIds, plan) {
      return writeTransaction(db, async (trx) => {
        let headQuery = trx.selectFrom("elections").selectAll().where("id", "=", electionId);
        // Row lock serialises appenders across replicas; SQLite's BEGIN IMMEDIATE already did.
        if (db.dialect === "mysql") headQuery = headQuery.forUpdate();
        const row = await headQuery.executeTakeFirst();
        if (!row) throw new Error(`election ${electionId} vanished`);
        const existing = new Map<number, Participation>();
        if (voterIds.length > 0) {
          const rows = await trx
            .selectFrom("participations")
            .select(["voter_id", "commitment", "sealed_receipt"])
            .where("election_id", "=", electionId)
            .where("voter_id", "in", voterIds)
            .execute();
          for (const r of rows) existing.set(Number(r.voter_id), { voterId: Number(r.voter_id), commitment: r.commitment, sealedReceipt: r.sealed_receipt });
        }
        const election = toElection(row);
        const frontier = election.logFormat === 2 && election.state === "open" ? await readFrontier(trx, electionId, election.headSeq) : undefined;
        const { plan: p, result } = plan(election, existing, frontier);
        if (!p || p.entries.length === 0) return result;
        await trx.executeQuery(
          insertRows(PARTICIPATIONS, PARTICIPATION_COLUMNS, p.participations.map((x) => [electionId, x.voterId, x.commitment, x.sealedReceipt])),
        );
        await trx.executeQuery(insertRows(BALLOTS, BALLOT_COLUMNS, p.entries.map((e) => [electionId, e.seq, e.trackingCode, e.choices, e.hash, e.commitment, e.salt])));
        if (p.tlog) {
          await insertNodes(trx, electionId, p.tlog.nodes);
          await trx.insertInto("checkpoints").values({ election_id: electionId, tree_size: p.tlog.checkpoint.size, note: p.tlog.checkpoint.note }).execute();
        }
        await trx.updateTable("elections").set({ head_seq: p.head.seq, head_hash: p.head.hash }).where("id", "=", electionId).execute();
        return result;
      });
    },
    async readLog(electionId, afterSeq, limit) {
      const rows = await k
        .selectFrom("ballots")
        .selectAll()
        .where("election_id", "=", electionId)
        .where("seq", ">", afterSeq)
        .orderBy("seq")
        .limit(limit)
        .execute();
      return rows.map(toLogRow);
    },
    ledger(electionId) {
      // One read transaction: a commit between the reads would look like a mismatch.
      return k.transaction().execute(async (trx) => {
        const e = await trx.selectFrom("elections").select(["head_seq", "head_hash"]).where("id", "=", electionId).executeTakeFirstOrThrow();
        const b = await trx
          .selectFrom("ballots")
          .select((eb) => [eb.fn.countAll<number>().as("n"), eb.fn.max("seq").as("max")])
          .where("election_id", "=", electionId)
          .executeTakeFirstOrThrow();
        const p = await trx.selectFrom("participations").select((eb) => eb.fn.countAll<number>().as("n")).where("election_id", "=", electionId).executeTakeFirstOrThrow();
        return { headSeq: Number(e.head_seq), headHash: e.head_hash, ballots: Number(b.n), maxSeq: Number(b.max ?? 0), turnout: Number(p.n) };
      });
    },
    async findByTrackingCode(code) {
      const r = await k.selectFrom("ballots").selectAll().where("tracking_code", "=", code).executeTakeFirst();
      return r && toLogRow(r);
    },

    async votedIn(electionIds, voterId) {
      if (electionIds.length === 0) return new Set();
      const rows = await k.selectFrom("participations").select("election_id").where("election_id", "in", electionIds).where("voter_id", "=", voterId).execute();
      return new Set(rows.map((r) => Number(r.election_id)));
    },
  };
}
