import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";

// In a child process (the built server-kit), so that the test runner keeps its own priority.
const script = `
import { readdirSync, readFileSync } from "node:fs";
import { lowerCpuPriority } from "@voting/server-kit";
const nice = () => readdirSync("/proc/self/task").map((t) => Number(readFileSync("/proc/self/task/" + t + "/stat", "utf8").split(") ")[1].split(" ")[16]));
const before = nice();
await lowerCpuPriority(10);
await new Promise((r) => setImmediate(r));
console.log(JSON.stringify({ before, after: nice() }));
`;

describe("lowerCpuPriority", () => {
  it.runIf(process.platform === "linux")("lowers every thread of the process, libuv's pool included (a login storm's argon2 runs there)", () => {
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(run.stderr).toBe("");
    const { before, after } = JSON.parse(run.stdout) as { before: number[]; after: number[] };
    // Main thread, V8's threads and libuv's pool (4 by default): all of them lowered.
    expect(after.length).toBeGreaterThanOrEqual(before.length);
    expect(after.length).toBeGreaterThanOrEqual(5);
    expect(after.every((n) => n === 10)).toBe(true);
  });
});
