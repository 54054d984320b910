#!/usr/bin/env node
import { runMain } from "@voting/server-kit";
import { startVoteServer } from "./app.js";
import { readVoteConfig } from "./config.js";

await runMain({ name: "vote-server", readConfig: readVoteConfig, start: startVoteServer });
