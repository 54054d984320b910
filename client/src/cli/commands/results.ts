import type { CommandBody } from "./index.js";
import { newClient, print, type GlobalArgs } from "../context.js";
import { renderResult, terminalSafe } from "../format.js";

interface Args extends GlobalArgs {
  watch: boolean;
  election: number;
}

export const results: CommandBody<Args> = {
  builder: (y) =>
    y
      .option("watch", { type: "boolean", default: false, describe: "Redraw as ballots are counted" })
      .option("election", { type: "number", default: 0, describe: "Election id (default: the general election)" }),
  async handler(args) {
    const client = newClient();
    try {
      if (!args.watch) {
        const { result } = await client.tally.getResults({ electionId: args.election });
        print(args, result, renderResult(result!));
        return;
      }
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      const tty = process.stdout.isTTY && !args.json;
      try {
        const stream = await client.tally.watchResults({ electionId: args.election }, { signal: stop.signal });
        let lines = 0;
        for await (const msg of stream) {
          if (args.json) {
            print(args, msg.result, "");
            continue;
          }
          const text = terminalSafe(renderResult(msg.result!));
          // Redraw in place: move up over the previous frame and clear it.
          if (tty && lines > 0) process.stdout.write(`\x1b[${lines}A\x1b[0J`);
          process.stdout.write(`${text}\n${tty ? "" : "\n"}`);
          lines = text.split("\n").length;
        }
      } catch (err) {
        if (!stop.signal.aborted) throw err;
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    } finally {
      client.close();
    }
  },
};
