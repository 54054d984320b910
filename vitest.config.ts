import { defineConfig } from "vitest/config";
import { fileURLToPath } from "node:url";

const src = (pkg: string) => fileURLToPath(new URL(`./${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run the TypeScript sources; the CLI test runs the built binary.
    alias: {
      "@voting/api": src("api"),
      "@voting/server-kit": src("server-kit"),
      "@voting/election-core": src("election-core"),
      "@voting/client": src("client"),
      "@voting/auth-server": src("auth-server"),
      "@voting/vote-server": src("vote-server"),
      "@voting/tally-server": src("tally-server"),
      "@voting/web": src("web"),
    },
  },
  test: {
    include: ["**/src/**/*.test.ts", "test/**/*.test.ts"],
    // test/cluster/ runs with `npm run test:cluster` (vitest.cluster.config.ts).
    exclude: ["**/node_modules/**", "**/dist/**", "test/cluster/**"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ["default"],
  },
});
