import type { CommandModule } from "yargs";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { parse } from "csv-parse";
import cliProgress from "cli-progress";
import { currentSession, newClient, print, RefusedError, type GlobalArgs } from "../../context.js";

interface Args extends GlobalArgs {
  id: number;
  file: string;
}

const BATCH = 5_000;

export const roll: CommandModule<GlobalArgs, Args> = {
  command: "roll <id> <file>",
  describe: "Add the usernames in a CSV file (first column; a header row 'username' is skipped) to an election's voter roll (admins)",
  builder: (y) => y.positional("id", { type: "number", demandOption: true }).positional("file", { type: "string", demandOption: true }),
  async handler(args) {
    const { accessToken } = await currentSession();
    const size = await stat(args.file).catch(() => {
      throw new RefusedError(`cannot read ${args.file}`);
    });
    const client = newClient(accessToken);
    // A progress bar for people at a terminal; scripts get one summary line.
    const bar = process.stderr.isTTY && !args.json ? new cliProgress.SingleBar({ format: "voter roll |{bar}| {percentage}% | {value}/{total} bytes | {added} added", stream: process.stderr }, cliProgress.Presets.shades_classic) : undefined;
    bar?.start(size.size, 0, { added: 0 });
    const input = createReadStream(args.file);
    const parser = input.pipe(parse({ columns: false, skip_empty_lines: true, trim: true, relax_column_count: true, comment: "#" }));
    let batch: string[] = [];
    let read = 0;
    let added = 0;
    let rollSize = 0;
    let sent = false;
    // The last call goes even when empty: the server answers with the roll's size.
    const flush = async (last = false) => {
      if (batch.length === 0 && !(last && !sent)) return;
      sent = true;
      const r = await client.elections.addToVoterRoll({ electionId: args.id, usernames: batch }, { deadlineMs: 60_000 });
      added += r.added;
      rollSize = r.rollSize;
      batch = [];
      bar?.update(input.bytesRead, { added });
    };
    try {
      for await (const record of parser as AsyncIterable<string[]>) {
        const username = record[0];
        read++;
        if (read === 1 && username.toLowerCase() === "username") continue;
        batch.push(username);
        if (batch.length >= BATCH) await flush();
      }
      await flush(true);
      bar?.update(size.size, { added });
    } finally {
      bar?.stop();
      client.close();
    }
    print(args, { electionId: args.id, added, rollSize }, `added ${added} usernames to the roll of election ${args.id}; it now holds ${rollSize}`);
  },
};
