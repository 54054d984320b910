import type { CommandModule } from "yargs";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import cliProgress from "cli-progress";
import { currentSession, newClient, print, RefusedError, type GlobalArgs } from "../../context.js";
import { uploadRoll } from "../../../roll-upload.js";

interface Args extends GlobalArgs {
  id: number;
  file: string;
}

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
    let result;
    try {
      result = await uploadRoll(client, args.id, input, (p) => bar?.update(input.bytesRead, { added: p.added }));
      bar?.update(size.size, { added: result.added });
    } finally {
      bar?.stop();
      client.close();
    }
    const { added, rollSize } = result;
    print(args, { electionId: args.id, added, rollSize }, `added ${added} usernames to the roll of election ${args.id}; it now holds ${rollSize}`);
  },
};
