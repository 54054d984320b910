#!/usr/bin/env node
// Runs the built CLI; `npm run build` (or `npm start`) builds it.
import "../dist/cli/main.js";
