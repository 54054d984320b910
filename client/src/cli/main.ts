#!/usr/bin/env node
// The `voting` command. Exit codes: 0 success, 1 a refused or failed request, 2 usage.
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { status as Status } from "@grpc/grpc-js";
import { errorDetails, isServiceError } from "@voting/api";
import { dialsWithTls, RefusedError, UsageError, useCaFile, type GlobalArgs } from "./context.js";
import { terminalSafe } from "./format.js";
import { commands } from "./commands/index.js";

// Deprecation notices are for this program's developers, not its users; over TLS to an IP
// address grpc-js sets the IP as server name, which Node reports as DEP0123 on every run.
process.noDeprecation = true;

/**
 * Exits once stdout and stderr have taken everything: into a pipe they write asynchronously,
 * and process.exit() would drop what is still queued (everything past the pipe's 64 KiB).
 */
async function exit(code: number): Promise<never> {
  const flushed = (s: NodeJS.WriteStream) => new Promise<void>((resolve) => (s.writableLength === 0 ? resolve() : s.write("", () => resolve())));
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}

async function fail(message: string, code: number): Promise<never> {
  process.stderr.write(`voting: ${terminalSafe(message.split("\n")[0])}\n`);
  return exit(code);
}

// A reader that goes away early (`voting ... | head`) is not an error of ours.
for (const s of [process.stdout, process.stderr]) {
  s.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
}

function describeError(err: unknown): [string, number] {
  if (err instanceof UsageError) return [err.message, 2];
  if (err instanceof RefusedError) return [err.message, 1];
  if (isServiceError(err)) {
    const name = Status[err.code] ?? String(err.code);
    const d = errorDetails(err);
    if (err.code === Status.UNAVAILABLE && !d) {
      const hint = dialsWithTls() ? "" : "; if the servers use TLS, give their CA with --ca or VOTING_CA_FILE";
      return [`server unavailable (${err.details || "no connection"})${hint}`, 1];
    }
    // The reason is what scripts and people can act on; the code name only when it adds to it.
    const reason = d?.reason && d.reason !== name ? `${d.reason}: ` : "";
    const field = d?.fieldViolations[0] ? `, field ${d.fieldViolations[0].field}` : "";
    const retry = d?.retryDelayMs !== undefined ? `, retry in ${Math.max(1, Math.ceil(d.retryDelayMs / 1000))} s` : "";
    return [`${reason}${err.details} (${name}${field}${retry})`, 1];
  }
  return [(err as Error)?.message ?? String(err), 1];
}

try {
  await yargs(hideBin(process.argv))
    .scriptName("voting")
    .usage("$0 <command> [options]\n\nServers: AUTH_ADDR, VOTE_ADDR, TALLY_ADDR (default localhost:50051-50053).")
    .option("json", { type: "boolean", default: false, describe: "Machine-readable output on stdout" })
    .option("ca", { type: "string", describe: "PEM CA file: dial the servers over TLS and verify their certificates (default: env VOTING_CA_FILE; none: plaintext)" })
    .middleware((argv) => useCaFile((argv.ca as string | undefined) || process.env.VOTING_CA_FILE))
    .command(commands)
    .demandCommand(1, "name a command")
    .strict()
    .help()
    .version(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    })
    .parseAsync();
  // Channels keep no handles open once closed; exit explicitly for streams ended by Ctrl-C.
  await exit(0);
} catch (err) {
  const [message, code] = describeError(err);
  await fail(message, code);
}

export type { GlobalArgs };
