// Officials' use cases: create and prepare elections, open and close them, by hand or on
// schedule.
import { AlreadyExistsError, canonicalUsername, checkText, FailedPreconditionError, InvalidArgumentError, NotFoundError, USERNAME_PATTERN } from "@voting/server-kit";
import { DuplicateCandidateError, WrongStateError, type ElectionRepository, type NewElection } from "../db/election-repository.js";
import { definitionHash, type Election, type ElectionState } from "./elections.js";

export const LIMITS = { title: 200, description: 5000, candidateName: 200, candidates: 1000, seats: 100, rollBatch: 10_000 };

function checkName(name: string, what: string): string {
  const trimmed = checkText(name, what).trim();
  if (trimmed.length === 0 || trimmed.length > LIMITS.candidateName) throw new InvalidArgumentError(`${what} must be 1 to ${LIMITS.candidateName} characters`);
  return trimmed;
}

/** Roll entries in canonical form (as auth-server stores usernames), without repeats. */
export function checkUsernames(usernames: string[]): string[] {
  if (usernames.length > LIMITS.rollBatch) throw new InvalidArgumentError(`at most ${LIMITS.rollBatch} usernames per call`);
  for (const u of usernames) checkText(u, "a voter roll username");
  const bad = usernames.find((u) => u.length > 256 || !USERNAME_PATTERN.test(canonicalUsername(u)));
  if (bad !== undefined) throw new InvalidArgumentError(`"${bad.slice(0, 80)}" is not a valid username`);
  return [...new Set(usernames.map(canonicalUsername))];
}

export function checkNewElection(e: NewElection, now: number): NewElection {
  const title = checkText(e.title, "title").trim();
  checkText(e.description, "description");
  if (title.length === 0 || title.length > LIMITS.title) throw new InvalidArgumentError(`title must be 1 to ${LIMITS.title} characters`);
  if (e.description.length > LIMITS.description) throw new InvalidArgumentError(`description must be at most ${LIMITS.description} characters`);
  if (e.seats < 1 || e.seats > LIMITS.seats) throw new InvalidArgumentError(`seats must be 1 to ${LIMITS.seats}`);
  if (e.seats > 1 && (e.method === "irv" || e.method === "schulze")) {
    throw new InvalidArgumentError(`${e.method} fills one seat; use stv for several`);
  }
  if (e.candidates.length > LIMITS.candidates) throw new InvalidArgumentError(`at most ${LIMITS.candidates} candidates`);
  const candidates = e.candidates.map((c) => checkName(c, "a candidate name"));
  const dup = candidates.find((c, i) => candidates.indexOf(c) !== i);
  if (dup !== undefined) throw new InvalidArgumentError(`candidate "${dup}" is listed twice`);
  if (e.closesAt && e.closesAt.getTime() <= now) throw new InvalidArgumentError("closes_at must be in the future");
  if (e.opensAt && e.closesAt && e.closesAt <= e.opensAt) throw new InvalidArgumentError("closes_at must be after opens_at");
  return { ...e, title, candidates, voterRoll: checkUsernames(e.voterRoll) };
}

export function electionAdmin(elections: ElectionRepository, onChange: (e: Election) => void = () => undefined) {
  const changed = (e: Election) => (onChange(e), e);
  const wrongState = (id: number, err: unknown, needs: string): never => {
    if (err instanceof WrongStateError) {
      if (err.state === undefined) throw new NotFoundError(`election ${id} not found`);
      throw new FailedPreconditionError(`election ${id} is ${err.state}; this needs a ${needs} election`);
    }
    throw err;
  };

  /** The general election's candidates and voters are simply the registered users. */
  async function listElection(id: number): Promise<Election> {
    const e = await elections.get(id);
    if (!e) throw new NotFoundError(`election ${id} not found`);
    if (e.candidateSource !== "list") throw new FailedPreconditionError(`election ${id} takes its candidates and voters from the registered users`);
    return e;
  }

  async function open(id: number): Promise<Election> {
    const e = await elections.get(id);
    if (!e) throw new NotFoundError(`election ${id} not found`);
    if (e.candidateSource === "list") {
      const n = (await elections.candidates(id)).length;
      if (n < Math.max(2, e.seats)) throw new FailedPreconditionError(`election ${id} has ${n} candidates; it needs at least ${Math.max(2, e.seats)}`);
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
        if (err instanceof DuplicateCandidateError) throw new InvalidArgumentError("candidate names must be unique");
        throw err;
      }
    },

    async addCandidate(electionId: number, name: string) {
      const clean = checkName(name, "name");
      await listElection(electionId);
      try {
        return await elections.addCandidate(electionId, clean);
      } catch (err) {
        if (err instanceof DuplicateCandidateError) throw new AlreadyExistsError(`election ${electionId} already has a candidate named "${clean}"`);
        if (err instanceof WrongStateError && err.state === "open") throw new FailedPreconditionError(`election ${electionId} is open; candidates can be added only to a draft`);
        return wrongState(electionId, err, "draft");
      }
    },

    async addToRoll(electionId: number, usernames: string[]) {
      await listElection(electionId);
      try {
        return await elections.addToRoll(electionId, checkUsernames(usernames));
      } catch (err) {
        if (err instanceof WrongStateError && err.state === "closed") throw new FailedPreconditionError(`election ${electionId} is closed`);
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
