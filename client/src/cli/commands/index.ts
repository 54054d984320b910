// The commands, each with its usage and description here and its module imported only when it
// runs or its --help is asked for: `voting audit` need not load what `voting tabulate` needs.
import type { Argv, CommandModule } from "yargs";
import type { GlobalArgs } from "../context.js";

/** What a command's module exports: its options and what it does. */
export type CommandBody<A> = { builder: (y: Argv<GlobalArgs>) => Argv<A>; handler: (args: A & { _: (string | number)[]; $0: string }) => void | Promise<void> };

function lazy(command: string, describe: string, load: () => Promise<CommandBody<never>>): CommandModule<GlobalArgs, GlobalArgs> {
  return {
    command,
    describe,
    builder: async (y) => (await load()).builder(y) as never,
    handler: async (args) => (await load()).handler(args as never),
  };
}

export const commands: CommandModule<GlobalArgs, GlobalArgs>[] = [
  lazy("register <username> <password> <role>", "Create an account as a voter or a candidate", async () => (await import("./register.js")).register as never),
  lazy("login <username> <password>", "Log in and save the session for later commands", async () => (await import("./login.js")).login as never),
  lazy("candidates", "List the candidates of an election, with the ids to vote for", async () => (await import("./candidates.js")).candidates as never),
  lazy(
    "vote [ids..]",
    "Cast a ballot with the saved session: `vote <candidate>`, `vote --approve a,b`, `vote --rank a,b,c` (ids or names); or `vote <user_id> <candidate_id> <token>`",
    async () => (await import("./vote.js")).vote as never,
  ),
  lazy("results", "Show the current tally; --watch follows it live until Ctrl-C", async () => (await import("./results.js")).results as never),
  lazy("election <command>", "Create, prepare, open, close and inspect elections", async () => (await import("./election.js")).election as never),
  lazy(
    "tabulate <file>",
    "Count ballots from a BLT or PrefLib (.soc .soi .toc .toi) file, offline, and explain the result",
    async () => (await import("./tabulate.js")).tabulate as never,
  ),
  lazy(
    "verify <code>",
    "Check the ballot with this tracking code with proofs only: the log's latest signed checkpoint, the ballot's inclusion in it, and consistency with every checkpoint kept before",
    async () => (await import("./verify.js")).verify as never,
  ),
  lazy(
    "audit",
    "Download an election's whole ballot log, verify every link, recount it, and compare with the published result",
    async () => (await import("./audit.js")).audit as never,
  ),
  lazy(
    "witness",
    "Follow an election's signed checkpoints, prove each consistent with the last one cosigned, and cosign it (C2SP tlog-cosignature); `witness serve` publishes them",
    async () => (await import("./witness.js")).witness as never,
  ),
];
