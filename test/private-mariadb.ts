// A private MariaDB server as a test fixture: its own datadir, port and socket under a temp
// directory, so a test can stop, SIGKILL and restart the database under real servers.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import { freePort } from "./harness.js";

export const MARIADBD = "/usr/sbin/mariadbd";
const INSTALL_DB = "/usr/bin/mariadb-install-db";

/** Whether this machine can run a private mariadbd (the binaries are installed). */
export const canRunMariaDb = existsSync(MARIADBD) && existsSync(INSTALL_DB);

/** Every mariadbd started here, killed when the test process exits whatever happens. */
const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of running) c.kill("SIGKILL");
});

export interface PrivateMariaDb {
  port: number;
  /** Server URL without a database, e.g. mysql://root@127.0.0.1:PORT. */
  url: string;
  /** Starts mariadbd (again) and waits until it takes connections. */
  start(): Promise<void>;
  /** SIGTERM: a clean shutdown; waits for the process to exit. */
  stop(): Promise<void>;
  /** SIGKILL: a crash; InnoDB recovers on the next start. */
  kill(): Promise<void>;
  /** Kills the server and removes its directory. */
  destroy(): Promise<void>;
  /** The end of its error log, for failure reports. */
  errorLog(): string;
}

/** As root, mariadbd runs as `mysql` (it refuses root); otherwise as the current user. */
const asMysql = userInfo().uid === 0;

export async function startPrivateMariaDb(): Promise<PrivateMariaDb> {
  const dir = mkdtempSync(join(tmpdir(), "voting-mariadb-"));
  const datadir = join(dir, "data");
  if (asMysql) chownSync(dir, Number(id("-u")), Number(id("-g")));
  const user = asMysql ? ["--user=mysql"] : [];
  const install = spawnSync(INSTALL_DB, ["--no-defaults", ...user, `--datadir=${datadir}`, "--auth-root-authentication-method=normal", "--skip-test-db"], { encoding: "utf8" });
  if (install.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mariadb-install-db failed: ${install.stderr || install.stdout}`);
  }
  const port = await freePort();
  const url = `mysql://root@127.0.0.1:${port}`;
  const errLog = join(dir, "error.log");
  let child: ChildProcess | undefined;

  const exited = (c: ChildProcess) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => c.once("exit", () => resolve())));
  const signal = async (sig: NodeJS.Signals) => {
    const c = child;
    child = undefined;
    if (!c) return;
    c.kill(sig);
    await exited(c);
  };
  const db: PrivateMariaDb = {
    port,
    url,
    async start() {
      if (child) throw new Error("mariadbd is already running");
      const c = spawn(MARIADBD, [
        "--no-defaults",
        ...user,
        `--datadir=${datadir}`,
        `--port=${port}`,
        "--bind-address=127.0.0.1",
        `--socket=${join(dir, "mariadbd.sock")}`,
        `--pid-file=${join(dir, "mariadbd.pid")}`,
        `--log-error=${errLog}`,
        "--skip-name-resolve",
        "--innodb-buffer-pool-size=64M",
        "--innodb-flush-log-at-trx-commit=1", // an acknowledged commit survives SIGKILL
        "--max-connections=500",
      ], { stdio: "ignore" });
      running.add(c);
      c.once("exit", () => running.delete(c));
      child = c;
      const end = Date.now() + 30_000;
      for (;;) {
        if (c.exitCode !== null) throw new Error(`mariadbd exited with code ${c.exitCode}:\n${db.errorLog()}`);
        try {
          const conn = await mysql.createConnection({ uri: url, connectTimeout: 1_000 });
          await conn.end();
          return;
        } catch (err) {
          if (Date.now() > end) throw new Error(`mariadbd did not take connections in 30 s (${(err as Error).message}):\n${db.errorLog()}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    stop: () => signal("SIGTERM"),
    kill: () => signal("SIGKILL"),
    async destroy() {
      await signal("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
    errorLog() {
      const r = spawnSync("tail", ["-n", "30", errLog], { encoding: "utf8" });
      return r.stdout ?? "";
    },
  };
  try {
    await db.start();
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return db;
}

function id(flag: "-u" | "-g"): string {
  return spawnSync("id", [flag, "mysql"], { encoding: "utf8" }).stdout.trim();
}
