import type { CommandModule } from "yargs";
import type { CommandBody } from "./index.js";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isServiceError, Status } from "@voting/api";
import { newClient, print, RefusedError, UsageError, type GlobalArgs } from "../context.js";
import { configDir } from "../session-store.js";
import { CheckpointStore } from "../checkpoint-store.js";
import { grpcLogSource } from "../log-source.js";
import { failWithEvidence } from "../log-trust.js";
import { noteOrigin, originElection, rootText, SplitViewError, openLogCheckpoint } from "../tlog-check.js";
import { loadOrCreateWitnessKey, WitnessDir, witnessOnce } from "../witness-core.js";
import { serveWitnessDir } from "../witness-http.js";
import { terminalSafe } from "../format.js";

interface Args extends GlobalArgs {
  election?: number;
  key?: string;
  name?: string;
  dir?: string;
  logKey?: string;
  interval: number;
  count?: number;
  duration?: number;
}

interface ServeArgs extends GlobalArgs {
  dir?: string;
  port: number;
  host: string;
}

const defaultDir = () => join(configDir(), "witness");

/** Errors worth retrying on the next poll: the log is down or slow, not lying. */
const transient = (err: unknown) => isServiceError(err) && [Status.UNAVAILABLE, Status.DEADLINE_EXCEEDED, Status.RESOURCE_EXHAUSTED, Status.CANCELLED].includes(err.code);

const serve: CommandModule<GlobalArgs, ServeArgs> = {
  command: "serve",
  describe: "Serve a witness directory read-only over HTTP: GET /<origin, URI-escaped>/checkpoint is the latest cosigned checkpoint",
  builder: (y) =>
    y
      .option("dir", { type: "string", describe: "Witness directory (default: <config dir>/witness)" })
      .option("port", { type: "number", default: 8080, describe: "TCP port (0: any free port)" })
      .option("host", { type: "string", default: "127.0.0.1", describe: "Address to listen on" }),
  async handler(args) {
    const dir = args.dir ?? defaultDir();
    const server = await serveWitnessDir(dir, args.port, args.host);
    const addr = server.address();
    const port = typeof addr === "object" && addr ? addr.port : args.port;
    print(args, { dir, url: `http://${args.host}:${port}` }, `serving ${dir} on http://${args.host}:${port} (Ctrl-C stops)`);
    await new Promise<void>((resolve) => {
      for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => server.close(() => resolve()));
    });
  },
};

export const witness: CommandBody<Args> = {
  builder: (y) =>
    y
      .command(serve as never)
      .option("election", { type: "number", describe: "Election id to witness" })
      .option("key", { type: "string", describe: "The witness's private key file, made (mode 0600) if missing (default: <config dir>/witness.key)" })
      .option("name", { type: "string", describe: "The witness's key name, for a new key (default: witness-<host name>)" })
      .option("dir", { type: "string", describe: "Where cosigned checkpoints and evidence are kept (default: <config dir>/witness)" })
      .option("log-key", { type: "string", describe: "The log's verifier key for this election (default: pinned on first use)" })
      .option("interval", { type: "number", default: 1000, describe: "Milliseconds between polls" })
      .option("count", { type: "number", describe: "Stop after this many polls" })
      .option("duration", { type: "number", describe: "Stop after this many seconds" }),
  async handler(args) {
    if (args.election === undefined) throw new UsageError("name the election to witness with --election N");
    const electionId = args.election;
    const key = await loadOrCreateWitnessKey(args.key ?? join(configDir(), "witness.key"), args.name);
    const dir = new WitnessDir(args.dir ?? defaultDir());
    const store = new CheckpointStore();
    if (!args.json) process.stderr.write(terminalSafe(`witness key ${key.created ? "made" : "loaded"}; its verifier key (give it to auditors):\n${key.vkey}\n`));
    else print(args, { event: "key", vkey: key.vkey, created: key.created }, "");
    const client = newClient();
    const until = args.duration !== undefined ? Date.now() + args.duration * 1000 : Infinity;
    let stopping = false;
    const stop = () => (stopping = true);
    process.once("SIGINT", stop).once("SIGTERM", stop);
    try {
      const source = grpcLogSource(client, electionId);
      for (let poll = 0; !stopping && (args.count === undefined || poll < args.count) && Date.now() < until; poll++) {
        if (poll > 0) await sleep(args.interval);
        let served;
        try {
          served = await source.checkpoint();
        } catch (err) {
          if (!transient(err)) throw err;
          process.stderr.write(terminalSafe(`voting: warning: ${(err as Error).message}; retrying\n`));
          continue;
        }
        const origin = noteOrigin(served.note);
        if (originElection(origin) !== electionId) throw new RefusedError(`the log served a checkpoint of ${JSON.stringify(origin)} for election ${args.election}`);
        const logKey = args.logKey ?? (await dir.pinnedLogKey(origin)) ?? served.logKey;
        if (!logKey) throw new RefusedError(`the log offers no key for ${origin}; give it with --log-key`);
        if ((await dir.pinnedLogKey(origin)) !== logKey) await dir.pinLogKey(origin, logKey);
        try {
          const outcome = await witnessOnce({ source, dir, key, logKey, electionId, served: served.note });
          if (outcome.status === "cosigned") {
            const cp = openLogCheckpoint(outcome.note, logKey, electionId).checkpoint;
            await store.save(origin, { size: cp.size, root: rootText(cp), note: served.note }, "witness", true);
            print(args, { event: "cosigned", origin, size: outcome.size, from: outcome.from, root: rootText(cp) }, `cosigned ${origin} size ${outcome.size}${outcome.from !== undefined ? ` (consistent with ${outcome.from})` : " (first seen)"}`);
          }
        } catch (err) {
          if (err instanceof SplitViewError) failWithEvidence(args, err, { origin });
          throw err;
        }
      }
    } finally {
      process.off("SIGINT", stop).off("SIGTERM", stop);
      client.close();
    }
  },
};
