// Adds a voter roll from CSV (first column; a header row "username" and # comments skipped)
// in batches, reporting progress after each: the CLI's `election roll` and the web page share it.
import { parse } from "csv-parse";
import type { Readable } from "node:stream";
import type { CallOptions, VotingClient } from "@voting/api";

const BATCH = 5_000;

export interface RollProgress {
  added: number;
  rollSize: number;
}

/** Reads `csv` (a stream or whole text) and sends its usernames; `onBatch` after each answer. */
export async function uploadRoll(client: VotingClient, electionId: number, csv: Readable | string, onBatch?: (p: RollProgress) => void, call: CallOptions = {}): Promise<RollProgress> {
  const parser = parse({ columns: false, skip_empty_lines: true, trim: true, relax_column_count: true, comment: "#" });
  if (typeof csv === "string") parser.end(csv);
  else csv.pipe(parser);
  let batch: string[] = [];
  let read = 0;
  const progress: RollProgress = { added: 0, rollSize: 0 };
  let sent = false;
  // The last call goes even when empty: the server answers with the roll's size.
  const flush = async (last = false) => {
    if (batch.length === 0 && !(last && !sent)) return;
    sent = true;
    const r = await client.elections.addToVoterRoll({ electionId, usernames: batch }, { deadlineMs: 60_000, ...call });
    progress.added += r.added;
    progress.rollSize = r.rollSize;
    batch = [];
    onBatch?.(progress);
  };
  for await (const record of parser as AsyncIterable<string[]>) {
    const username = record[0];
    read++;
    if (read === 1 && username.toLowerCase() === "username") continue;
    batch.push(username);
    if (batch.length >= BATCH) await flush();
  }
  await flush(true);
  return progress;
}
