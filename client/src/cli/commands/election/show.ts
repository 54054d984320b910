import type { CommandModule } from "yargs";
import { newClient, print, type GlobalArgs } from "../../context.js";
import { electionJson, renderElection } from "../../election-view.js";

interface Args extends GlobalArgs {
  id: number;
}

export const show: CommandModule<GlobalArgs, Args> = {
  command: "show <id>",
  describe: "Show an election with its candidates",
  builder: (y) => y.positional("id", { type: "number", demandOption: true }),
  async handler(args) {
    const client = newClient();
    try {
      const { election } = await client.elections.getElection({ electionId: args.id });
      print(args, electionJson(election!), renderElection(election!));
    } finally {
      client.close();
    }
  },
};
