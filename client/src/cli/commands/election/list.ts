import type { CommandModule } from "yargs";
import { stateEnum, voteV1 } from "@voting/api";
import { newClient, print, type GlobalArgs } from "../../context.js";
import { table } from "../../format.js";
import { electionJson, methodName, stateName } from "../../election-view.js";

interface Args extends GlobalArgs {
  state?: "draft" | "open" | "closed";
}

export const list: CommandModule<GlobalArgs, Args> = {
  command: "list",
  describe: "List elections",
  builder: (y) => y.option("state", { choices: ["draft", "open", "closed"] as const }),
  async handler(args) {
    const client = newClient();
    try {
      const all: voteV1.Election[] = [];
      let pageToken = "";
      do {
        const page = await client.elections.listElections({ state: args.state ? stateEnum(args.state) : voteV1.ElectionState.ELECTION_STATE_UNSPECIFIED, pageSize: 500, pageToken });
        all.push(...page.elections);
        pageToken = page.nextPageToken;
      } while (pageToken !== "");
      print(
        args,
        all.map(electionJson),
        all.length === 0
          ? "no elections"
          : table(
              ["ID", "STATE", "METHOD", "SEATS", "BALLOTS", "TITLE"],
              all.map((e) => [String(e.id), stateName(e.state), methodName(e.method), String(e.seats), String(e.ballotCount), e.title]),
            ),
      );
    } finally {
      client.close();
    }
  },
};
