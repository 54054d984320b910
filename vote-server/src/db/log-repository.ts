// The transparency log's rows: complete subtree hashes (tlog_nodes) and signed checkpoints.
// Nodes are written by the ballot repository in the append transaction; this reads them.
import { frontierNodes, type NodeId, type StoredNode } from "@voting/election-core";
import { insertRows, isUniqueViolation, type Database } from "@voting/server-kit";
import { CompiledQuery, type Kysely } from "kysely";
import type { VoteDb } from "./schema.js";

export interface StoredCheckpoint {
  size: number;
  note: string;
}

export interface LogRepository {
  /** Hashes of these complete subtrees, in the order asked (one query); throws if one is missing. */
  readNodes(electionId: number, nodes: readonly NodeId[]): Promise<Buffer[]>;
  latestCheckpoint(electionId: number): Promise<StoredCheckpoint | undefined>;
  /** The smallest checkpoint of at least this size: the first that includes leaf size - 1. */
  firstCheckpointFrom(electionId: number, size: number): Promise<StoredCheckpoint | undefined>;
  /** Stores a checkpoint unless one of that size is stored already. */
  saveCheckpoint(electionId: number, c: StoredCheckpoint): Promise<void>;
  /** Format 2 elections whose head is past their latest checkpoint (or that have none). */
  behind(): Promise<{ electionId: number; headSeq: number }[]>;
}

const key = (level: number, index: number) => `${level}/${index}`;

/** Reads complete subtrees with one query, inside a transaction or not. */
export async function readNodesWith(k: Kysely<VoteDb>, electionId: number, nodes: readonly NodeId[]): Promise<Buffer[]> {
  if (nodes.length === 0) return [];
  // One primary-key lookup per node, in one statement built by hand (Kysely's compiler costs
  // more than the lookups): an OR of (level, idx) pairs would make SQLite scan the election.
  const one = "select level, idx, hash from tlog_nodes where election_id = ? and level = ? and idx = ?";
  const query = CompiledQuery.raw(
    nodes.map(() => one).join(" union all "),
    nodes.flatMap((n) => [electionId, n.level, n.index]),
  );
  const { rows } = await k.executeQuery<{ level: number; idx: number; hash: Uint8Array }>(query);
  const found = new Map(rows.map((r) => [key(Number(r.level), Number(r.idx)), Buffer.from(r.hash)]));
  return nodes.map((n) => {
    const h = found.get(key(n.level, n.index));
    if (!h || h.length !== 32) throw new Error(`election ${electionId}: tree node ${n.level}/${n.index} is missing from tlog_nodes`);
    return h;
  });
}

/** The right frontier of the first `size` leaves, with ids, for CompactRange.restore. */
export async function readFrontier(k: Kysely<VoteDb>, electionId: number, size: number): Promise<StoredNode[]> {
  const ids = frontierNodes(size);
  const hashes = await readNodesWith(k, electionId, ids);
  return ids.map((n, i) => ({ ...n, hash: hashes[i] }));
}

const NODE_COLUMNS = ["election_id", "level", "idx", "hash"] as const satisfies readonly (keyof VoteDb["tlog_nodes"])[];

/** Stores the tree nodes of several elections, a thousand rows a statement. */
export async function insertNodes(k: Kysely<VoteDb>, byElection: readonly (readonly [electionId: number, nodes: readonly StoredNode[]])[]): Promise<void> {
  const rows = byElection.flatMap(([electionId, nodes]) => nodes.map((n) => [electionId, n.level, n.index, n.hash]));
  for (let i = 0; i < rows.length; i += 1000) await k.executeQuery(insertRows("tlog_nodes" satisfies keyof VoteDb, NODE_COLUMNS, rows.slice(i, i + 1000)));
}

export function logRepository(db: Database<VoteDb>): LogRepository {
  const k = db.kysely;
  return {
    readNodes: (electionId, nodes) => readNodesWith(k, electionId, nodes),
    async latestCheckpoint(electionId) {
      const r = await k.selectFrom("checkpoints").select(["tree_size", "note"]).where("election_id", "=", electionId).orderBy("tree_size", "desc").limit(1).executeTakeFirst();
      return r && { size: Number(r.tree_size), note: r.note };
    },
    async firstCheckpointFrom(electionId, size) {
      const r = await k
        .selectFrom("checkpoints")
        .select(["tree_size", "note"])
        .where("election_id", "=", electionId)
        .where("tree_size", ">=", size)
        .orderBy("tree_size")
        .limit(1)
        .executeTakeFirst();
      return r && { size: Number(r.tree_size), note: r.note };
    },
    async saveCheckpoint(electionId, c) {
      try {
        await k.insertInto("checkpoints").values({ election_id: electionId, tree_size: c.size, note: c.note }).execute();
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
      }
    },
    async behind() {
      // A correlated max per election: one primary-key lookup each, not a scan of every checkpoint.
      const rows = await k
        .selectFrom("elections as e")
        .select(["e.id", "e.head_seq", (eb) => eb.selectFrom("checkpoints as c").select((c) => c.fn.max("c.tree_size").as("m")).whereRef("c.election_id", "=", "e.id").as("size")])
        .where("e.log_format", "=", 2)
        .execute();
      return rows.filter((r) => r.size === null || Number(r.size) < Number(r.head_seq)).map((r) => ({ electionId: Number(r.id), headSeq: Number(r.head_seq) }));
    },
  };
}
