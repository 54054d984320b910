import { TallyInputError } from "./ballots.js";
import { parseSeed } from "./ties.js";
import { METHODS, type Method, type OvervoteRule, type StvVariant, type TallyOptions } from "./types.js";

const OVERVOTE_RULES: readonly OvervoteRule[] = ["exhaust", "skip", "exhaust-if-continuing"];
const STV_VARIANTS: readonly StvVariant[] = ["scottish", "wigm", "meek"];

/** TallyOptions with every default filled in and checked. */
export interface ResolvedOptions {
  method: Method;
  seats: number;
  batchElimination: boolean;
  overvote: OvervoteRule;
  stvVariant: StvVariant;
  /** Lower-case hex, "" when none. */
  seedHex: string;
}

export function resolveOptions(o: TallyOptions): ResolvedOptions {
  if (!METHODS.includes(o.method)) throw new TallyInputError(`unknown method "${o.method}"`);
  const seats = o.seats ?? 1;
  if (!Number.isSafeInteger(seats) || seats < 1) throw new TallyInputError(`seats must be a whole number >= 1, got ${seats}`);
  if (o.method === "irv" && seats !== 1) throw new TallyInputError(`irv fills one seat, got seats ${seats}; use stv for more`);
  const overvote = o.overvote ?? "exhaust";
  if (!OVERVOTE_RULES.includes(overvote)) throw new TallyInputError(`unknown overvote rule "${overvote}"`);
  const stvVariant = o.stvVariant ?? "scottish";
  if (!STV_VARIANTS.includes(stvVariant)) throw new TallyInputError(`unknown stv variant "${stvVariant}"`);
  parseSeed(o.tieBreakSeed);
  return {
    method: o.method,
    seats,
    batchElimination: o.batchElimination ?? false,
    overvote,
    stvVariant,
    seedHex: (o.tieBreakSeed ?? "").toLowerCase(),
  };
}
