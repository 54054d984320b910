// Officials' use cases: create and prepare elections, open and close them, by hand or on
// schedule.
import { AlreadyExistsError, canonicalUsername, checkText, FailedPreconditionError, InvalidArgumentError, USERNAME_PATTERN } from "@voting/server-kit";
import { DuplicateCandidateError, WrongStateError, type ElectionRepository, type NewElection } from "../db/election-repository.js";
import { definitionHash, electionNotFound, type Election, type ElectionState } from "./elections.js";

export const LIMITS = { title: 200, description: 5000, candidateName: 200, candidates: 1000, seats: 100, rollBatch: 10_000 };

function checkName(name: string, what: string, field: string): string {
  const trimmed = checkText(name, what, field).trim();
  if (trimmed.length === 0 || trimmed.length > LIMITS.candidateName) throw new InvalidArgumentError(`${what} must be 1 to ${LIMITS.candidateName} characters`, { field });
  return trimmed;
}

/** Roll entries in canonical form (as auth-server stores usernames), without repeats. */
export function checkUsernames(usernames: string[], field: string): string[] {
  if (usernames.length > LIMITS.rollBatch) throw new InvalidArgumentError(`at most ${LIMITS.rollBatch} usernames per call`, { field });
  for (const u of usernames) checkText(u, "a voter roll username", field);
  const bad = usernames.find((u) => u.length > 256 || !USERNAME_PATTERN.test(canonicalUsername(u)));
  if (bad !== undefined) throw new InvalidArgumentError(`"${bad.slice(0, 80)}" is not a valid username`, { field, reason: "INVALID_USERNAME" });
  return [...new Set(usernames.map(canonicalUsername))];
}

export function checkNewElection(e: NewElection, now: number): NewElection {
  const title = checkText(e.title, "title").trim();
  checkText(e.description, "description");
  if (title.length === 0 || title.length > LIMITS.title) throw new InvalidArgumentError(`title must be 1 to ${LIMITS.title} characters`, { field: "title" });
  if (e.description.length > LIMITS.description) throw new InvalidArgumentError(`description must be at most ${LIMITS.description} characters`, { field: "description" });
  if (e.seats < 1 || e.seats > LIMITS.seats) throw new InvalidArgumentError(`seats must be 1 to ${LIMITS.seats}`, { field: "seats" });
  if (e.seats > 1 && (e.method === "irv" || e.method === "schulze")) {
    throw new InvalidArgumentError(`${e.method} fills one seat; use stv for several`, { field: "seats" });
  }
  if (e.candidates.length > LIMITS.candidates) throw new InvalidArgumentError(`at most ${LIMITS.candidates} candidates`, { field: "candidates" });
  const candidates = e.candidates.map((c) => checkName(c, "a candidate name", "candidates"));
  const dup = candidates.find((c, i) => candidates.indexOf(c) !== i);
  if (dup !== undefined) throw new InvalidArgumentError(`candidate "${dup}" is listed twice`, { field: "candidates" });
  if (e.closesAt && e.closesAt.getTime() <= now) throw new InvalidArgumentError("closes_at must be in the future", { field: "closes_at" });
  if (e.opensAt && e.closesAt && e.closesAt <= e.opensAt) throw new InvalidArgumentError("closes_at must be after opens_at", { field: "closes_at" });
  return { ...e, title, candidates, voterRoll: checkUsernames(e.voterRoll, "voter_roll") };
}

export function electionAdmin(elections: ElectionRepository, onChange: (e: Election) => void = () => undefined) {
  const changed = (e: Election) => (onChange(e), e);
  const wrongState = (id: number, err: unknown, needs: string): never => {
    if (err instanceof WrongStateError) {
      if (err.state === undefined) throw electionNotFound(id);
      throw new FailedPreconditionError(`election ${id} is ${err.state}; this needs a ${needs} election`, { reason: "ELECTION_WRONG_STATE", metadata: { electionId: String(id), state: err.state } });
    }
    throw err;
  };

  /** The general election's candidates and voters are simply the registered users. */
  async function listElection(id: number): Promise<Election> {
    const e = await elections.get(id);
    if (!e) throw electionNotFound(id);
    if (e.candidateSource !== "list") throw new FailedPreconditionError(`election ${id} takes its candidates and voters from the registered users`, { reason: "CANDIDATES_FROM_USERS" });
    return e;
  }

  async function open(id: number): Promise<Election> {
    const e = await elections.get(id);
    if (!e) throw electionNotFound(id);
    if (e.candidateSource === "list") {
      const n = (await elections.candidates(id)).length;
      if (n < Math.max(2, e.seats)) throw new FailedPreconditionError(`election ${id} has ${n} candidates; it needs at least ${Math.max(2, e.seats)}`, { reason: "TOO_FEW_CANDIDATES" });
    }
    try {
      return changed(await elections.transition(id, "draft", "open", (el, candidates) => definitionHash(el, candidates)));
    } catch (err) {
      return wrongState(id, err, "draft");
    }
  }

  async function close(id: number): Promise<Election> {
    try {
      return changed(await elections.transition(id, "open", "closed"));
    } catch (err) {
      return wrongState(id, err, "open");
    }
  }

  return {
    async create(input: NewElection): Promise<Election> {
      try {
        return changed(await elections.create(checkNewElection(input, Date.now())));
      } catch (err) {
        if (err instanceof DuplicateCandidateError) throw new InvalidArgumentError("candidate names must be unique", { field: "candidates" });
        throw err;
      }
    },

    async addCandidate(electionId: number, name: string) {
      const clean = checkName(name, "name", "name");
      await listElection(electionId);
      try {
        return await elections.addCandidate(electionId, clean);
      } catch (err) {
        if (err instanceof DuplicateCandidateError) throw new AlreadyExistsError(`election ${electionId} already has a candidate named "${clean}"`, { reason: "CANDIDATE_EXISTS" });
        if (err instanceof WrongStateError && err.state === "open") throw new FailedPreconditionError(`election ${electionId} is open; candidates can be added only to a draft`, { reason: "ELECTION_WRONG_STATE", metadata: { electionId: String(electionId), state: "open" } });
        return wrongState(electionId, err, "draft");
      }
    },

    async addToRoll(electionId: number, usernames: string[]) {
      await listElection(electionId);
      try {
        return await elections.addToRoll(electionId, checkUsernames(usernames, "usernames"));
      } catch (err) {
        if (err instanceof WrongStateError && err.state === "closed") throw new FailedPreconditionError(`election ${electionId} is closed`, { reason: "ELECTION_WRONG_STATE", metadata: { electionId: String(electionId), state: "closed" } });
        return wrongState(electionId, err, "draft or open");
      }
    },

    open,
    close,

    /**
     * Opens and closes what is due; safe to run on every replica and after any restart. A
     * failure is reported to onFailed, except losing a race to another replica.
     */
    async runSchedule(now = Date.now(), onFailed?: (electionId: number, action: "open" | "close", err: unknown) => void): Promise<void> {
      const due = await elections.due(now);
      const attempt = (id: number, action: "open" | "close") =>
        (action === "open" ? open(id) : close(id)).catch(async (err: unknown) => {
          const state = (await elections.get(id).catch(() => undefined))?.state;
          const done = state === "closed" || (action === "open" && state === "open");
          if (!done) onFailed?.(id, action, err);
        });
      for (const id of due.open) await attempt(id, "open");
      for (const id of due.close) await attempt(id, "close");
    },
  };
}

export type ElectionAdmin = ReturnType<typeof electionAdmin>;
