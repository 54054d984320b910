import type { Argv, CommandModule } from "yargs";
import type { CommandBody } from "./index.js";
import type { GlobalArgs } from "../context.js";
import { create } from "./election/create.js";
import { addCandidate } from "./election/add-candidate.js";
import { open, close } from "./election/transition.js";
import { list } from "./election/list.js";
import { show } from "./election/show.js";
import { roll } from "./election/roll.js";

export const election: CommandBody<GlobalArgs> = {
  builder: (y: Argv<GlobalArgs>) =>
    y
      .command(create as never)
      .command(addCandidate as never)
      .command(open as never)
      .command(close as never)
      .command(list as never)
      .command(show as never)
      .command(roll as never)
      .demandCommand(1, "name an election command"),
  handler: () => undefined,
};
