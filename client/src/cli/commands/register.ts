import type { CommandBody } from "./index.js";
import { authV1 } from "@voting/api";
import { newClient, print, type GlobalArgs } from "../context.js";

interface Args extends GlobalArgs {
  username: string;
  password: string;
  role: "voter" | "candidate";
}

export const register: CommandBody<Args> = {
  builder: (y) =>
    y
      .positional("username", { type: "string", demandOption: true, describe: "3-64 characters: letters, digits, . _ -" })
      .positional("password", { type: "string", demandOption: true, describe: "8-1024 characters" })
      .positional("role", { choices: ["voter", "candidate"] as const, demandOption: true }),
  async handler(args) {
    const client = newClient();
    try {
      const role = args.role === "voter" ? authV1.Role.ROLE_VOTER : authV1.Role.ROLE_CANDIDATE;
      const { user } = await client.auth.register({ username: args.username, password: args.password, role });
      print(args, { id: user!.id, username: user!.username, role: args.role }, `registered ${user!.username} as ${args.role} with id ${user!.id}`);
    } finally {
      client.close();
    }
  },
};
