#!/usr/bin/env node
import { runMain } from "@voting/server-kit";
import { startAuthServer } from "./app.js";
import { readAuthConfig } from "./config.js";

await runMain({ name: "auth-server", readConfig: readAuthConfig, start: startAuthServer });
