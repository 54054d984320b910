import type { Kysely } from "kysely";
import { arrayRowsQuery, insertRows, sharedReads, writeTransaction, type Database } from "@voting/server-kit";
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

/** The ballots of one election in a multi-election append: whose participations to read. */
export interface AppendRequest {
  electionId: number;
  voterIds: number[];
}

export interface BallotRepository {
  /**
   * In one transaction that holds these elections' log heads (locked in ascending id order, so
   * that replicas cannot deadlock): per election reads the head and the participations of its
   * voters (and, in format 2, the tree's right frontier), lets `plan` decide, writes what it
   * returns. Answers each election's result by id.
   */
  append<T>(
    requests: AppendRequest[],
    plan: (election: Election, existing: Map<number, Participation>, frontier: StoredNode[] | undefined) => { plan: AppendPlan | undefined; result: T },
  ): Promise<Map<number, T>>;
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

const READ_LOG = "select seq, tracking_code, choices, hash, commitment, salt from ballots where election_id = ? and seq > ? order by seq limit ?";

/** The recorded participations of the voters of each request, by election and voter, in one read. */
async function readParticipations(trx: Kysely<VoteDb>, requests: AppendRequest[]): Promise<Map<number, Map<number, Participation>>> {
  const byElection = new Map<number, Map<number, Participation>>();
  const asked = requests.filter((r) => r.voterIds.length > 0);
  if (asked.length === 0) return byElection;
  const rows = await trx
    .selectFrom("participations")
    .select(["election_id", "voter_id", "commitment", "sealed_receipt"])
    .where((eb) => eb.or(asked.map((r) => eb.and([eb("election_id", "=", r.electionId), eb("voter_id", "in", r.voterIds)]))))
    .execute();
  for (const r of rows) {
    const id = Number(r.election_id);
    if (!byElection.has(id)) byElection.set(id, new Map());
    byElection.get(id)!.set(Number(r.voter_id), { voterId: Number(r.voter_id), commitment: r.commitment, sealedReceipt: r.sealed_receipt });
  }
  return byElection;
}

export function ballotRepository(db: Database<VoteDb>): BallotRepository {
  const k = db.kysely;
  return {
    append(requests, plan) {
      const ids = [...new Set(requests.map((r) => r.electionId))].sort((a, b) => a - b);
      return writeTransaction(db, async (trx) => {
        let headQuery = trx.selectFrom("elections").selectAll().where("id", "in", ids).orderBy("id");
        // Row locks serialise appenders across replicas; SQLite's BEGIN IMMEDIATE already did.
        if (db.dialect === "mysql") headQuery = headQuery.forUpdate();
        const rows = await headQuery.execute();
        if (rows.length !== ids.length) throw new Error(`an election of ${ids.join(", ")} vanished`);
        const existing = await readParticipations(trx, requests);
        const results = new Map<number, ReturnType<typeof plan>["result"]>();
        const participations: unknown[][] = [];
        const ballots: unknown[][] = [];
        const nodes: [number, StoredNode[]][] = [];
        const checkpoints: { election_id: number; tree_size: number; note: string }[] = [];
        const heads: { id: number; seq: number; hash: string }[] = [];
        for (const row of rows) {
          const election = toElection(row);
          const id = election.id;
          const frontier = election.logFormat === 2 && election.state === "open" ? await readFrontier(trx, id, election.headSeq) : undefined;
          const { plan: p, result } = plan(election, existing.get(id) ?? new Map(), frontier);
          results.set(id, result);
          if (!p || p.entries.length === 0) continue;
          for (const x of p.participations) participations.push([id, x.voterId, x.commitment, x.sealedReceipt]);
          for (const e of p.entries) ballots.push([id, e.seq, e.trackingCode, e.choices, e.hash, e.commitment, e.salt]);
          if (p.tlog) {
            nodes.push([id, p.tlog.nodes]);
            checkpoints.push({ election_id: id, tree_size: p.tlog.checkpoint.size, note: p.tlog.checkpoint.note });
          }
          heads.push({ id, ...p.head });
        }
        if (heads.length === 0) return results;
        await trx.executeQuery(insertRows(PARTICIPATIONS, PARTICIPATION_COLUMNS, participations));
        await trx.executeQuery(insertRows(BALLOTS, BALLOT_COLUMNS, ballots));
        await insertNodes(trx, nodes);
        if (checkpoints.length > 0) await trx.insertInto("checkpoints").values(checkpoints).execute();
        for (const h of heads) await trx.updateTable("elections").set({ head_seq: h.seq, head_hash: h.hash }).where("id", "=", h.id).execute();
        return results;
      });
    },
    async readLog(electionId, afterSeq, limit) {
      // Rows as arrays: a page is a thousand rows, and followers read whole logs.
      const { rows } = await k.executeQuery(arrayRowsQuery(READ_LOG, [electionId, afterSeq, limit]));
      return rows.map((r) => ({
        electionId,
        seq: Number(r[0]),
        trackingCode: r[1] as string,
        choices: r[2] as string,
        hash: r[3] as string,
        commitment: r[4] as string,
        salt: r[5] as string,
      }));
    },
    // Two whole-log counts behind a public RPC and the reconciliation: callers share reads.
    ledger: sharedReads((electionId) =>
      // One read transaction: a commit between the reads would look like a mismatch.
      k.transaction().execute(async (trx) => {
        const e = await trx.selectFrom("elections").select(["head_seq", "head_hash"]).where("id", "=", electionId).executeTakeFirstOrThrow();
        const b = await trx
          .selectFrom("ballots")
          .select((eb) => [eb.fn.countAll<number>().as("n"), eb.fn.max("seq").as("max")])
          .where("election_id", "=", electionId)
          .executeTakeFirstOrThrow();
        const p = await trx.selectFrom("participations").select((eb) => eb.fn.countAll<number>().as("n")).where("election_id", "=", electionId).executeTakeFirstOrThrow();
        return { headSeq: Number(e.head_seq), headHash: e.head_hash, ballots: Number(b.n), maxSeq: Number(b.max ?? 0), turnout: Number(p.n) };
      }),
    ),
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
