// Composition of auth-server: used by main.ts and by tests, which start it in-process.
import { authV1 } from "@voting/api";
import { ConfigError, createTokenVerifier, migrate, signingKeyStore, type RunningService, openDatabase, startGrpcServer, type Logger } from "@voting/server-kit";
import type { AuthConfig } from "./config.js";
import { authMigrations } from "./db/migrations.js";
import { userRepository } from "./db/user-repository.js";
import { refreshFamilyRepository } from "./db/refresh-family-repository.js";
import type { AuthDb } from "./db/schema.js";
import { argon2Hasher } from "./domain/passwords.js";
import { tokenIssuer } from "./domain/tokens.js";
import { userService } from "./domain/users.js";
import { authAccess } from "./rpc/access.js";
import { authServiceImpl } from "./rpc/auth-service.js";

export async function startAuthServer(config: AuthConfig, log: Logger): Promise<RunningService> {
  const db = openDatabase<AuthDb>(config.DATABASE_URL);
  try {
    await migrate(db, "auth_migrations", authMigrations(db.dialect));
    const tokens = await tokenIssuer(signingKeyStore(db, "auth_signing_keys"), {
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      accessTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
      refreshTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
    }, refreshFamilyRepository(db));
    const users = userService({
      users: userRepository(db),
      hasher: argon2Hasher({ memoryKiB: config.ARGON2_MEMORY_KIB, timeCost: config.ARGON2_TIME_COST, parallelism: config.ARGON2_PARALLELISM }),
      tokens,
      limits: { maxFailuresPerUser: config.LOGIN_MAX_FAILURES_PER_USER, maxAttemptsPerPeer: config.LOGIN_MAX_ATTEMPTS_PER_PEER },
    });
    await users.ensureServiceAccounts(config.SERVICE_PASSWORD);
    if (config.VOTING_ADMIN_USERNAME !== "" || config.VOTING_ADMIN_PASSWORD !== "") {
      await users.ensureAdmin(config.VOTING_ADMIN_USERNAME, config.VOTING_ADMIN_PASSWORD).catch((err: Error) => {
        throw new ConfigError(`admin bootstrap: ${err.message}`);
      });
      log.info({ username: config.VOTING_ADMIN_USERNAME }, "admin account ready");
    }

    const server = await startGrpcServer({
      host: config.HOST,
      port: config.AUTH_PORT,
      services: [{ name: "voting.auth.v1.AuthService", definition: authV1.AuthServiceService, implementation: authServiceImpl(users, tokens, log) }],
      access: authAccess,
      verifier: createTokenVerifier({ keys: (header) => tokens.keyFor(header.kid), issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE }),
      log,
      limits: { maxReceiveMessageBytes: config.GRPC_MAX_RECEIVE_BYTES, maxConcurrentStreams: config.GRPC_MAX_CONCURRENT_STREAMS },
    });
    log.info({ address: `${config.HOST}:${server.port}` }, "auth-server listening");
    return {
      port: server.port,
      async stop() {
        await server.shutdown();
        await db.close();
      },
    };
  } catch (err) {
    await db.close();
    throw err;
  }
}
