import type { CommandBody } from "./index.js";
import { roleName } from "@voting/api";
import { newClient, print, type GlobalArgs } from "../context.js";
import { configDir, saveSession } from "../session-store.js";

interface Args extends GlobalArgs {
  username: string;
  password: string;
}

export const login: CommandBody<Args> = {
  builder: (y) => y.positional("username", { type: "string", demandOption: true }).positional("password", { type: "string", demandOption: true }),
  async handler(args) {
    const client = newClient();
    try {
      const { user, tokens } = await client.auth.login({ username: args.username, password: args.password });
      const role = roleName(user!.role) ?? "unknown";
      await saveSession({
        userId: user!.id,
        username: user!.username,
        role,
        accessToken: tokens!.accessToken,
        accessExpiresAt: tokens!.accessTokenExpireTime!.toISOString(),
        refreshToken: tokens!.refreshToken,
        refreshExpiresAt: tokens!.refreshTokenExpireTime!.toISOString(),
      });
      print(
        args,
        { userId: user!.id, username: user!.username, role, token: tokens!.accessToken, expiresAt: tokens!.accessTokenExpireTime },
        `logged in as ${user!.username} (${role}, id ${user!.id}); session saved in ${configDir()}\ntoken: ${tokens!.accessToken}`,
      );
    } finally {
      client.close();
    }
  },
};
