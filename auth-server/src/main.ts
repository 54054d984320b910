#!/usr/bin/env node
import { lowerCpuPriority, runMain } from "@voting/server-kit";
import { startAuthServer } from "./app.js";
import { readAuthConfig } from "./config.js";

await runMain({
  name: "auth-server",
  readConfig: readAuthConfig,
  start: async (config, log) => {
    // Password hashing is a core's worth of argon2 per login storm: on a shared machine it
    // takes what voting leaves, not half of it. Here, not in the app: tests run it in process.
    if (config.AUTH_NICE > 0 && (await lowerCpuPriority(config.AUTH_NICE))) log.info({ nice: config.AUTH_NICE }, "running at a lower CPU priority");
    return startAuthServer(config, log);
  },
});
