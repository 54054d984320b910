import { canonicalUsername, isUniqueViolation, writeTransaction, type Database } from "@voting/server-kit";
import type { Kysely, Selectable } from "kysely";
import { CURRENT_LOG_FORMAT, type LogFormat } from "@voting/election-core";
import type { VoteDb } from "./schema.js";
import type { Candidate, CandidateSource, Election, ElectionState, Method } from "../domain/elections.js";

export class DuplicateCandidateError extends Error {}
/** The election was not in the state the change needs; carries the state it was in. */
export class WrongStateError extends Error {
  constructor(readonly state: ElectionState | undefined) {
    super(`election is ${state ?? "missing"}`);
  }
}

export interface NewElection {
  title: string;
  description: string;
  method: Method;
  seats: number;
  candidates: string[];
  opensAt?: Date;
  closesAt?: Date;
  resultsWhileOpen: boolean;
  voterRoll: string[];
}

export interface ElectionRepository {
  /** Inserts the election with its id unless one with that id exists. */
  ensure(e: Election): Promise<void>;
  create(e: NewElection): Promise<Election>;
  get(id: number): Promise<Election | undefined>;
  list(q: { state?: ElectionState; afterId: number; limit: number }): Promise<Election[]>;
  candidates(electionId: number): Promise<Candidate[]>;
  /** Adds a candidate to a draft election; WrongStateError otherwise. */
  addCandidate(electionId: number, name: string): Promise<Candidate>;
  /** Adds usernames (ignoring ones already there) unless the election is closed. */
  addToRoll(electionId: number, usernames: string[]): Promise<{ added: number; rollSize: number }>;
  rollSize(electionId: number): Promise<number>;
  isOnRoll(electionId: number, username: string): Promise<boolean>;
  /** Which of these elections have this username on their roll. */
  rollsHolding(electionIds: number[], username: string): Promise<Set<number>>;
  /**
   * Moves the election from one state to the next if it is still in `from`; with
   * `freeze`, computes the log's genesis hash from the candidates in the same transaction.
   */
  transition(id: number, from: ElectionState, to: ElectionState, freeze?: (e: Election, candidates: Candidate[]) => string): Promise<Election>;
  /** Ids of elections whose scheduled opening or closing is due. */
  due(now: number): Promise<{ open: number[]; close: number[] }>;
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
  opensAt: r.opens_at === null ? undefined : new Date(Number(r.opens_at)),
  closesAt: r.closes_at === null ? undefined : new Date(Number(r.closes_at)),
  resultsWhileOpen: Number(r.results_while_open) === 1,
  hasVoterRoll: Number(r.has_voter_roll) === 1,
  logFormat: Number(r.log_format) as LogFormat,
});

const ROLL_BATCH = 1000;

async function insertRoll(trx: Kysely<VoteDb>, dialect: Database<VoteDb>["dialect"], electionId: number, usernames: string[]): Promise<number> {
  let added = 0;
  for (let i = 0; i < usernames.length; i += ROLL_BATCH) {
    const rows = usernames.slice(i, i + ROLL_BATCH).map((username) => ({ election_id: electionId, username }));
    const q = trx.insertInto("voter_rolls").values(rows);
    const r = dialect === "mysql" ? await q.ignore().executeTakeFirst() : await q.onConflict((oc) => oc.doNothing()).executeTakeFirst();
    added += Number(r.numInsertedOrUpdatedRows ?? 0);
  }
  return added;
}

export function electionRepository(db: Database<VoteDb>): ElectionRepository {
  const k = db.kysely;
  const lockElection = async (trx: Kysely<VoteDb>, id: number) => {
    let q = trx.selectFrom("elections").selectAll().where("id", "=", id);
    if (db.dialect === "mysql") q = q.forUpdate();
    const row = await q.executeTakeFirst();
    return row && toElection(row);
  };
  const candidatesOf = async (trx: Kysely<VoteDb>, electionId: number): Promise<Candidate[]> =>
    (await trx.selectFrom("candidates").select(["candidate_id", "name"]).where("election_id", "=", electionId).orderBy("candidate_id").execute()).map(
      (r) => ({ id: Number(r.candidate_id), name: r.name }),
    );

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
            opens_at: null,
            closes_at: null,
            results_while_open: e.resultsWhileOpen ? 1 : 0,
            has_voter_roll: e.hasVoterRoll ? 1 : 0,
            log_format: e.logFormat,
          })
          .execute();
      } catch (err) {
        if (!isUniqueViolation(err)) throw err; // another replica created it first
      }
    },

    create(e) {
      return writeTransaction(db, async (trx) => {
        const r = await trx
          .insertInto("elections")
          .values({
            title: e.title,
            description: e.description,
            method: e.method,
            seats: e.seats,
            state: "draft",
            candidate_source: "list",
            created_at: Date.now(),
            genesis_hash: "",
            head_seq: 0,
            head_hash: "",
            opens_at: e.opensAt?.getTime() ?? null,
            closes_at: e.closesAt?.getTime() ?? null,
            results_while_open: e.resultsWhileOpen ? 1 : 0,
            has_voter_roll: e.voterRoll.length > 0 ? 1 : 0,
            log_format: CURRENT_LOG_FORMAT,
          })
          .executeTakeFirstOrThrow();
        const id = Number(r.insertId);
        if (e.candidates.length > 0) {
          try {
            await trx
              .insertInto("candidates")
              .values(e.candidates.map((name, i) => ({ election_id: id, candidate_id: i + 1, name })))
              .execute();
          } catch (err) {
            if (isUniqueViolation(err)) throw new DuplicateCandidateError();
            throw err;
          }
        }
        await insertRoll(trx, db.dialect, id, e.voterRoll);
        return (await lockElection(trx, id))!;
      });
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

    candidates: (electionId) => candidatesOf(k, electionId),

    addCandidate(electionId, name) {
      return writeTransaction(db, async (trx) => {
        const e = await lockElection(trx, electionId);
        if (!e || e.state !== "draft" || e.candidateSource !== "list") throw new WrongStateError(e?.state);
        const last = await trx
          .selectFrom("candidates")
          .select((eb) => eb.fn.max("candidate_id").as("max"))
          .where("election_id", "=", electionId)
          .executeTakeFirst();
        const id = Number(last?.max ?? 0) + 1;
        try {
          await trx.insertInto("candidates").values({ election_id: electionId, candidate_id: id, name }).execute();
        } catch (err) {
          if (isUniqueViolation(err)) throw new DuplicateCandidateError();
          throw err;
        }
        return { id, name };
      });
    },

    addToRoll(electionId, usernames) {
      return writeTransaction(db, async (trx) => {
        const e = await lockElection(trx, electionId);
        if (!e || e.state === "closed" || e.candidateSource !== "list") throw new WrongStateError(e?.state);
        const added = await insertRoll(trx, db.dialect, electionId, usernames);
        // No names asks for the size only; it does not switch a roll on.
        if (!e.hasVoterRoll && usernames.length > 0) await trx.updateTable("elections").set({ has_voter_roll: 1 }).where("id", "=", electionId).execute();
        const size = await trx.selectFrom("voter_rolls").select((eb) => eb.fn.countAll<number>().as("n")).where("election_id", "=", electionId).executeTakeFirstOrThrow();
        return { added, rollSize: Number(size.n) };
      });
    },

    async rollSize(electionId) {
      const r = await k.selectFrom("voter_rolls").select((eb) => eb.fn.countAll<number>().as("n")).where("election_id", "=", electionId).executeTakeFirstOrThrow();
      return Number(r.n);
    },

    async isOnRoll(electionId, username) {
      const r = await k.selectFrom("voter_rolls").select("username").where("election_id", "=", electionId).where("username", "=", canonicalUsername(username)).executeTakeFirst();
      return r !== undefined;
    },

    async rollsHolding(electionIds, username) {
      if (electionIds.length === 0) return new Set();
      const rows = await k.selectFrom("voter_rolls").select("election_id").where("election_id", "in", electionIds).where("username", "=", canonicalUsername(username)).execute();
      return new Set(rows.map((r) => Number(r.election_id)));
    },

    transition(id, from, to, freeze) {
      return writeTransaction(db, async (trx) => {
        const e = await lockElection(trx, id);
        if (!e || e.state !== from) throw new WrongStateError(e?.state);
        const genesis = freeze ? freeze(e, await candidatesOf(trx, id)) : undefined;
        await trx
          .updateTable("elections")
          .set(genesis === undefined ? { state: to } : { state: to, genesis_hash: genesis, head_hash: genesis })
          .where("id", "=", id)
          .execute();
        return (await lockElection(trx, id))!;
      });
    },

    async due(now) {
      const open = await k.selectFrom("elections").select("id").where("state", "=", "draft").where("opens_at", "<=", now).execute();
      const close = await k.selectFrom("elections").select("id").where("state", "=", "open").where("closes_at", "<=", now).execute();
      return { open: open.map((r) => Number(r.id)), close: close.map((r) => Number(r.id)) };
    },
  };
}
