// What a ballot must look like for each counting method.
import { InvalidArgumentError } from "@voting/server-kit";
import type { Method } from "./elections.js";

const EXPECTS: Record<Method, string> = {
  plurality: "plurality: a ballot names exactly one candidate",
  approval: "approval: a ballot names a non-empty set of candidates",
  irv: "irv: a ballot ranks one or more candidates, most preferred first, without repeats",
  stv: "stv: a ballot ranks one or more candidates, most preferred first, without repeats",
  schulze: "schulze: a ballot ranks one or more candidates, most preferred first, without repeats",
};

/**
 * Checks the shape of a ballot for the method and returns its canonical choices: approval
 * sets in ascending id order (the order means nothing), rankings as given.
 */
export function canonicalChoices(electionId: number, method: Method, choices: number[]): number[] {
  const wrong = () => new InvalidArgumentError(`election ${electionId} uses ${EXPECTS[method]}`, { field: "ballot.choices", reason: "BALLOT_INVALID" });
  if (choices.length === 0 || new Set(choices).size !== choices.length) throw wrong();
  if (method === "plurality" && choices.length !== 1) throw wrong();
  if (method === "approval") return [...choices].sort((a, b) => a - b);
  return choices;
}
