import type { CommandBody } from "./index.js";
import { newClient, print, type GlobalArgs } from "../context.js";
import { table } from "../format.js";

interface Args extends GlobalArgs {
  election: number;
}

export const candidates: CommandBody<Args> = {
  builder: (y) => y.option("election", { type: "number", default: 0, describe: "Election id (default: the general election)" }),
  async handler(args) {
    const client = newClient();
    try {
      const { election } = await client.elections.getElection({ electionId: args.election, withoutTurnout: true });
      const list = election!.candidates.map((c) => ({ id: c.id, name: c.name }));
      const human = list.length === 0 ? `${election!.title}: no candidates yet` : `${election!.title}\n${table(["ID", "NAME"], list.map((c) => [String(c.id), c.name]))}`;
      print(args, { electionId: election!.id, title: election!.title, candidates: list }, human);
    } finally {
      client.close();
    }
  },
};
