import type { CommandModule } from "yargs";
import { currentSession, newClient, print, UsageError, type GlobalArgs } from "../../context.js";
import { electionJson, renderElection } from "../../election-view.js";
import { methodEnum } from "@voting/api";

interface Args extends GlobalArgs {
  title: string;
  method: "plurality" | "approval" | "irv" | "stv" | "schulze";
  seats: number;
  candidate: (string | number)[];
  description: string;
  "opens-at"?: string;
  "closes-at"?: string;
  "results-while-open": boolean;
}

function parseTime(raw: string | undefined, what: string): Date | undefined {
  if (raw === undefined) return undefined;
  const t = new Date(raw);
  if (Number.isNaN(t.getTime())) throw new UsageError(`${what} must be a date and time such as 2026-12-01T08:00:00Z`);
  return t;
}

export const create: CommandModule<GlobalArgs, Args> = {
  command: "create <title>",
  describe: "Create a draft election (admins)",
  builder: (y) =>
    y
      .positional("title", { type: "string", demandOption: true })
      .option("method", { choices: ["plurality", "approval", "irv", "stv", "schulze"] as const, demandOption: true, describe: "How ballots are counted" })
      .option("seats", { type: "number", default: 1 })
      .option("candidate", { type: "string", array: true, default: [], describe: "A candidate name; repeat for each" })
      .option("description", { type: "string", default: "" })
      .option("opens-at", { type: "string", describe: "Open by itself at this time (ISO 8601)" })
      .option("closes-at", { type: "string", describe: "Close by itself at this time (ISO 8601)" })
      .option("results-while-open", { type: "boolean", default: false, describe: "Show results while open (default: embargoed until the close)" }),
  async handler(args) {
    const { accessToken } = await currentSession();
    const client = newClient(accessToken);
    try {
      const { election } = await client.elections.createElection({
        title: args.title,
        description: args.description,
        method: methodEnum(args.method),
        seats: args.seats,
        candidates: args.candidate.map(String),
        opensAt: parseTime(args["opens-at"], "--opens-at"),
        closesAt: parseTime(args["closes-at"], "--closes-at"),
        resultsWhileOpen: args["results-while-open"],
      });
      print(args, electionJson(election!), `created ${renderElection(election!)}`);
    } finally {
      client.close();
    }
  },
};
