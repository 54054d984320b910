import type { Selectable } from "kysely";
import { isUniqueViolation, type Database } from "@voting/server-kit";
import type { VoteDb } from "./schema.js";
import type { CandidateSource, Election, ElectionState, Method } from "../domain/elections.js";

export interface ElectionRepository {
  /** Inserts the election with its id unless one with that id exists. */
  ensure(e: Election): Promise<void>;
  get(id: number): Promise<Election | undefined>;
  list(q: { state?: ElectionState; afterId: number; limit: number }): Promise<Election[]>;
}

type Row = Selectable<VoteDb["elections"]>;

export const toElection = (r: Row): Election => ({
  id: Number(r.id),
  title: r.title,
  description: r.description,
  method: r.method as Method,
  seats: Number(r.seats),
  state: r.state as ElectionState,
  candidateSource: r.candidate_source as CandidateSource,
  genesisHash: r.genesis_hash,
  headSeq: Number(r.head_seq),
  headHash: r.head_hash,
});

export function electionRepository(db: Database<VoteDb>): ElectionRepository {
  const k = db.kysely;
  return {
    async ensure(e) {
      const exists = await k.selectFrom("elections").select("id").where("id", "=", e.id).executeTakeFirst();
      if (exists) return;
      try {
        await k
          .insertInto("elections")
          .values({
            id: e.id,
            title: e.title,
            description: e.description,
            method: e.method,
            seats: e.seats,
            state: e.state,
            candidate_source: e.candidateSource,
            created_at: Date.now(),
            genesis_hash: e.genesisHash,
            head_seq: e.headSeq,
            head_hash: e.headHash,
          })
          .execute();
      } catch (err) {
        if (!isUniqueViolation(err)) throw err; // another replica created it first
      }
    },
    async get(id) {
      const r = await k.selectFrom("elections").selectAll().where("id", "=", id).executeTakeFirst();
      return r && toElection(r);
    },
    async list({ state, afterId, limit }) {
      let q = k.selectFrom("elections").selectAll().where("id", ">", afterId);
      if (state) q = q.where("state", "=", state);
      return (await q.orderBy("id").limit(limit).execute()).map(toElection);
    },
  };
}
