// `npm run test:cluster`: the Galera cluster fault test (test/cluster/), kept out of `npm test`
// because starting three nodes with state transfers takes minutes.
import { defineConfig } from "vitest/config";
import base from "./vitest.config.js";

export default defineConfig({
  ...base,
  test: { ...base.test, include: ["test/cluster/**/*.test.ts"], exclude: ["**/node_modules/**", "**/dist/**"], testTimeout: 600_000, hookTimeout: 600_000 },
});
