#!/usr/bin/env node
import { runMain } from "@voting/server-kit";
import { startTallyServer } from "./app.js";
import { readTallyConfig } from "./config.js";

await runMain({ name: "tally-server", readConfig: readTallyConfig, start: startTallyServer });
