import type { CommandModule } from "yargs";
import { currentSession, newClient, print, type GlobalArgs } from "../../context.js";

interface Args extends GlobalArgs {
  id: number;
  name: string;
}

export const addCandidate: CommandModule<GlobalArgs, Args> = {
  command: "add-candidate <id> <name>",
  describe: "Add a candidate to a draft election (admins)",
  builder: (y) => y.positional("id", { type: "number", demandOption: true }).positional("name", { type: "string", demandOption: true }),
  async handler(args) {
    const { accessToken } = await currentSession();
    const client = newClient(accessToken);
    try {
      const { candidate } = await client.elections.addCandidate({ electionId: args.id, name: String(args.name) });
      print(args, candidate, `added ${candidate!.name} to election ${args.id} as candidate ${candidate!.id}`);
    } finally {
      client.close();
    }
  },
};
