// Composition of auth-server: used by main.ts and by tests, which start it in-process.
import { authV1 } from "@voting/api";
import { ConfigError, createTokenVerifier, loadServicePublicKeys, migrate, openKeyRing, readKek, requireKeySource, type KeyRing, type RunningService, openDatabase, serverMetrics, startGrpcServer, watchDatabase, loadTls, type Logger } from "@voting/server-kit";
import type { AuthConfig } from "./config.js";
import { authMigrations } from "./db/migrations.js";
import { userRepository } from "./db/user-repository.js";
import { refreshFamilyRepository } from "./db/refresh-family-repository.js";
import type { AuthDb } from "./db/schema.js";
import { argon2Hasher } from "./domain/passwords.js";
import { defaultHashConcurrency, limitedHasher } from "./domain/hash-limit.js";
import { tokenIssuer } from "./domain/tokens.js";
import { userService } from "./domain/users.js";
import { loginLimits } from "./domain/login-limits.js";
import { serviceTokens } from "./domain/service-tokens.js";
import { assertionLedger } from "./db/assertion-ledger.js";
import { authAccess } from "./rpc/access.js";
import { authServiceImpl } from "./rpc/auth-service.js";

export async function startAuthServer(config: AuthConfig, log: Logger): Promise<RunningService> {
  const tls = loadTls(config);
  const servicePublicKeys = loadServicePublicKeys(config.SERVICE_PUBLIC_KEYS_FILE, "SERVICE_PUBLIC_KEYS_FILE");
  const kek = await readKek(config);
  requireKeySource({ keyFile: config.AUTH_SIGNING_KEY_FILE, kek, fileSetting: "AUTH_SIGNING_KEY_FILE" });
  const db = openDatabase<AuthDb>(config.DATABASE_URL);
  let keys: KeyRing | undefined;
  try {
    await migrate(db, "auth_migrations", authMigrations(db.dialect, { log }));
    keys = await openKeyRing({
      db,
      table: "auth_signing_keys",
      fileSetting: "AUTH_SIGNING_KEY_FILE",
      keyFile: config.AUTH_SIGNING_KEY_FILE,
      kek,
      reloadMs: config.SIGNING_KEY_RELOAD_MS,
      rotateHours: config.SIGNING_KEY_ROTATE_HOURS,
      // Until every token the old key signed has expired, plus clock leeway and a reload.
      retainSeconds: Math.max(config.ACCESS_TOKEN_TTL_SECONDS, config.REFRESH_TOKEN_TTL_SECONDS) + 600,
      log,
    });
    const tokens = tokenIssuer(keys, {
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      accessTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
      refreshTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
      onPurgeFailed: (err) => log.warn({ err }, "purging expired refresh-token families failed; retried on a later login"),
    }, refreshFamilyRepository(db));
    const userRepo = userRepository(db);
    const users = userService({
      users: userRepo,
      hasher: limitedHasher(argon2Hasher({ memoryKiB: config.ARGON2_MEMORY_KIB, timeCost: config.ARGON2_TIME_COST, parallelism: config.ARGON2_PARALLELISM }), {
        concurrency: config.AUTH_HASH_CONCURRENCY || defaultHashConcurrency(),
        maxQueued: config.AUTH_HASH_QUEUE,
      }),
      tokens,
      limits: loginLimits({
        maxFailuresPerUserAddress: config.LOGIN_MAX_FAILURES_PER_USER_ADDRESS,
        slowAfterFailuresPerUser: config.LOGIN_SLOW_AFTER_FAILURES_PER_USER,
        maxDelayMs: config.LOGIN_MAX_DELAY_MS,
        maxAttemptsPerPeer: config.LOGIN_MAX_ATTEMPTS_PER_PEER,
        maxRegistersPerPeer: config.REGISTER_MAX_PER_PEER,
      }),
    });
    await users.ensureServiceAccounts();
    const services = serviceTokens({ publicKeys: servicePublicKeys, issuer: config.JWT_ISSUER, users: userRepo, tokens, ledger: assertionLedger(db), certNames: config.SERVICE_CERT_NAMES });
    if (config.VOTING_ADMIN_USERNAME !== "" || config.VOTING_ADMIN_PASSWORD !== "") {
      const admin = await users.ensureAdmin(config.VOTING_ADMIN_USERNAME, config.VOTING_ADMIN_PASSWORD).catch((err: Error) => {
        throw new ConfigError(`admin bootstrap: ${err.message}`);
      });
      log.info({ username: admin }, "admin account ready");
    }

    const server = await startGrpcServer({
      host: config.HOST,
      port: config.AUTH_PORT,
      tls,
      services: [{ name: "voting.auth.v1.AuthService", definition: authV1.AuthServiceService, implementation: authServiceImpl(users, tokens, services, log) }],
      access: authAccess,
      verifier: createTokenVerifier({ keys: (header) => tokens.keyFor(header.kid), issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE }),
      log,
      limits: { maxReceiveMessageBytes: config.GRPC_MAX_RECEIVE_BYTES, maxConcurrentStreams: config.GRPC_MAX_CONCURRENT_STREAMS },
      metrics: serverMetrics(),
      metricsHost: config.METRICS_HOST,
      metricsPort: config.AUTH_METRICS_PORT,
    });
    const dbWatch = watchDatabase(db, { everyMs: config.DB_CHECK_EVERY_MS, log, setServing: server.setServing });
    log.info({ address: `${config.HOST}:${server.port}` }, "auth-server listening");
    const ring = keys;
    return {
      port: server.port,
      metricsPort: server.metricsPort,
      async stop() {
        dbWatch.stop();
        await server.shutdown();
        ring.close();
        await db.close();
      },
    };
  } catch (err) {
    keys?.close();
    await db.close();
    throw err;
  }
}
