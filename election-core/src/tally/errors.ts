/** Bad options or input to tabulate(): callers map it to INVALID_ARGUMENT. */
export class TallyInputError extends RangeError {
  override name = "TallyInputError";
}
