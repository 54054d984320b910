// docker-compose.yml ships no secret: the key-encryption key is made at first start, kept in
// its own volume that only the three signing servers mount, unless the operator gives one.
import { expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const text = readFileSync(fileURLToPath(new URL("../docker-compose.yml", import.meta.url)), "utf8");

/** The lines of a top-level service, up to the next one. */
function service(name: string): string {
  const start = text.indexOf(`\n  ${name}:\n`);
  expect(start, `service ${name}`).toBeGreaterThan(0);
  const rest = text.slice(start + 1);
  const next = rest.slice(1).search(/\n {2}[a-z][\w-]*:\n|\nvolumes:\n/);
  return next < 0 ? rest : rest.slice(0, next + 1);
}

it("when compose is started without KEY_ENCRYPTION_KEY, then no key written in the file is used: a one-shot service makes one that only auth-server, vote-server and tally-server mount, read-only", () => {
  expect(text).not.toMatch(/KEY_ENCRYPTION_KEY:-[^}]/);
  expect(text).toMatch(/KEY_ENCRYPTION_KEY_FILE: \/kek\/key-encryption-key/);
  expect(service("key-encryption-key")).toMatch(/randomBytes\(32\)/);
  for (const name of ["auth-server", "vote-server", "tally-server"]) {
    expect(service(name)).toMatch(/- key-encryption-key:\/kek:ro\n/);
    expect(service(name)).toMatch(/key-encryption-key:\n\s+condition: service_completed_successfully/);
  }
  for (const name of ["mysql", "certs", "service-keys"]) expect(service(name)).not.toMatch(/key-encryption-key/);
});

it("when compose starts MySQL, then its buffer pool and redo log are sized for a national election (1 GB each, not the image's 128 MB and 100 MB), and the environment can change them", () => {
  const mysql = service("mysql");
  expect(mysql).toMatch(/- --innodb-buffer-pool-size=\$\{MYSQL_BUFFER_POOL_SIZE:-1G\}\n/);
  expect(mysql).toMatch(/- --innodb-redo-log-capacity=\$\{MYSQL_REDO_LOG_CAPACITY:-1G\}\n/);
});
