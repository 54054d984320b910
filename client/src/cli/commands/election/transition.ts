import type { CommandModule } from "yargs";
import { currentSession, newClient, print, type GlobalArgs } from "../../context.js";
import { electionJson, stateName } from "../../election-view.js";

interface Args extends GlobalArgs {
  id: number;
}

function transition(verb: "open" | "close"): CommandModule<GlobalArgs, Args> {
  return {
    command: `${verb} <id>`,
    describe: verb === "open" ? "Open a draft election for ballots (admins)" : "Close an open election; its result becomes final (admins)",
    builder: (y) => y.positional("id", { type: "number", demandOption: true }),
    async handler(args) {
      const { accessToken } = await currentSession();
      const client = newClient(accessToken);
      try {
        const { election } = verb === "open" ? await client.elections.openElection({ electionId: args.id }) : await client.elections.closeElection({ electionId: args.id });
        print(args, electionJson(election!), `election ${election!.id} is ${stateName(election!.state)}`);
      } finally {
        client.close();
      }
    },
  };
}

export const open = transition("open");
export const close = transition("close");
