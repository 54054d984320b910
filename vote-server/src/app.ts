// Composition of vote-server: used by main.ts and by tests, which start it in-process.
import { authV1, isServiceError, logV1, roleName, Status, voteV1, type VotingClient } from "@voting/api";
import { connectPeers, repeatWithoutOverlap, createTokenVerifier, loadServicePrivateKey, type RunningService, migrate, openDatabase, parseDatabaseUrl, type DatabaseWatch, startGrpcServer, UnavailableError, integrityAlarms, watchDatabase, loadTls, streamLimiter, type Logger, openKeyRing, readKek, requireKeySource, type KeyRing, type KeyTable } from "@voting/server-kit";
import { createPublicKey } from "node:crypto";
import type { VoteConfig } from "./config.js";
import { ballotRepository, type BallotRepository } from "./db/ballot-repository.js";
import { electionRepository } from "./db/election-repository.js";
import { voteMigrations } from "./db/migrations.js";
import type { VoteDb } from "./db/schema.js";
import { ballotWriter, type BallotWriter } from "./writer/ballot-writer.js";
import { candidateDirectory, type CandidateSourcePort } from "./domain/candidates.js";
import { defaultElection } from "./domain/elections.js";
import { logFeed } from "./domain/log-feed.js";
import { votingService } from "./domain/voting.js";
import { voteAccess } from "./rpc/access.js";
import { voteServiceDefinition, voteServiceImpl } from "./rpc/vote-service.js";
import { electionServiceImpl } from "./rpc/election-service.js";
import { electionAdmin } from "./domain/election-admin.js";
import { reconcile } from "./domain/reconciliation.js";
import { logRepository } from "./db/log-repository.js";
import { logSigner, transparencyLog, type LogKey } from "./domain/transparency-log.js";
import { logServiceImpl } from "./rpc/log-service.js";
import { callRateLimiter } from "./rpc/call-rate.js";
import { voteMetrics } from "./metrics.js";

/** The ring's current key as the raw seed and public key that signed notes use. */
function logKeyOf(ring: KeyRing): LogKey {
  const { privateKey } = ring.signer();
  const jwk = privateKey.export({ format: "jwk" });
  return { seed: Buffer.from(jwk.d!, "base64url"), publicKey: Buffer.from(createPublicKey(privateKey).export({ format: "jwk" }).x!, "base64url") };
}

/** Candidates who are registered users, asked of auth-server with the service account. */
function authCandidates(client: VotingClient): CandidateSourcePort {
  const unavailable = (err: unknown) => {
    if (err instanceof Error && !isServiceError(err)) throw err;
    throw new UnavailableError(`auth-server could not be asked about candidates: ${(err as Error).message}`, { reason: "PEER_UNAVAILABLE" });
  };
  return {
    async roleOf(userId, upstream) {
      try {
        const { user } = await client.auth.getUser({ id: userId }, { deadlineMs: 3_000, ...upstream });
        return user && roleName(user.role);
      } catch (err) {
        if (isServiceError(err) && err.code === Status.NOT_FOUND) return undefined;
        return unavailable(err);
      }
    },
    async listCandidates(upstream) {
      const out = [];
      let pageToken = "";
      try {
        do {
          const page = await client.auth.listUsers({ role: authV1.Role.ROLE_CANDIDATE, pageSize: 1000, pageToken }, { deadlineMs: 5_000, ...upstream });
          out.push(...page.users.map((u) => ({ id: u.id, name: u.username })));
          pageToken = page.nextPageToken;
        } while (pageToken !== "");
      } catch (err) {
        return unavailable(err);
      }
      return out;
    },
  };
}

/** Gauges for tests and operators: open StreamBallots calls, their readers, log tails (each with a poll timer), log reads. */
export interface StreamStats {
  streams: number;
  followers: number;
  tails: number;
  logReads: number;
}

export interface RunningVoteServer extends RunningService {
  streamStats(): StreamStats;
}

export async function startVoteServer(config: VoteConfig, log: Logger): Promise<RunningVoteServer> {
  const tls = loadTls(config);
  const key = loadServicePrivateKey(config.VOTE_SERVICE_KEY_FILE, "VOTE_SERVICE_KEY_FILE");
  const kek = await readKek(config);
  requireKeySource({ keyFile: config.VOTE_LOG_KEY_FILE, kek, fileSetting: "VOTE_LOG_KEY_FILE" });
  // The ballot writer thread opens its own connection, so the store must be one it can share.
  if (parseDatabaseUrl(config.DATABASE_URL).target === ":memory:") throw new Error("DATABASE_URL: vote-server needs a database file, not sqlite::memory: (its ballot writer thread opens its own connection)");
  const db = openDatabase<VoteDb>(config.DATABASE_URL);
  let logKeys: KeyRing | undefined;
  let box: BallotWriter | undefined;
  const peers = connectPeers({ authAddr: config.AUTH_ADDR, account: "svc-vote", key, issuer: config.JWT_ISSUER, tls });
  try {
    await migrate(db, "vote_migrations", voteMigrations(db.dialect));
    const elections = electionRepository(db);
    await elections.ensure(defaultElection());
    // The log key never rotates by itself: a new key makes every kept checkpoint unverifiable
    // with the published one. Not a KeyTable of server-kit's (tokens, statements), hence the cast.
    logKeys = await openKeyRing({
      db,
      table: "vote_log_keys" as KeyTable,
      fileSetting: "VOTE_LOG_KEY_FILE",
      keyFile: config.VOTE_LOG_KEY_FILE,
      kek,
      reloadMs: config.SIGNING_KEY_RELOAD_MS,
      rotateHours: 0,
      retainSeconds: Infinity,
      log,
    });
    const ring = logKeys;
    let cachedKey: { kid: string; key: LogKey } | undefined;
    const currentLogKey = () => {
      const kid = ring.signer().kid;
      if (cachedKey?.kid !== kid) cachedKey = { kid, key: logKeyOf(ring) };
      return cachedKey;
    };
    const signer = logSigner(config.VOTE_LOG_NAME, () => currentLogKey().key);
    // Every read of the ballot log goes through here, so its cost per append can be watched.
    const repo = ballotRepository(db);
    let logReads = 0;
    const ballots: BallotRepository = { ...repo, readLog: (...args) => (logReads++, repo.readLog(...args)) };
    const feed = logFeed(
      { readLog: ballots.readLog, headSeq: async (id) => (await elections.get(id))?.headSeq ?? 0 },
      {
        pageEntries: config.VOTE_STREAM_PAGE_ENTRIES,
        maxQueuedEntries: config.VOTE_STREAM_MAX_QUEUED_ENTRIES,
        onError: (err) => log.warn({ err }, "reading the ballot log for followers failed"),
      },
    );
    const streams = streamLimiter({ perCaller: config.STREAM_MAX_PER_CALLER, perServer: config.STREAM_MAX_PER_SERVER });
    const metrics = voteMetrics(() => ({ streams: streams.open(), ...feed.stats(), logReads }));
    let dbWatch: DatabaseWatch | undefined;
    box = ballotWriter({
      databaseUrl: config.DATABASE_URL,
      batchMax: config.VOTE_BATCH_MAX,
      lingerMs: config.VOTE_LINGER_MS,
      logName: config.VOTE_LOG_NAME,
      logKey: currentLogKey,
      onAppended: feed.appended,
      onCommitted: metrics.committed,
      onCommitFailed: (electionId, ballots, err) => {
        log.error({ err, electionId, ballots }, "ballot commit failed; its ballots were answered UNAVAILABLE");
        // The writer's connection is not this one: probe now, as a failed query here would.
        void dbWatch?.check();
      },
    });
    box.start();
    const voting = votingService({ elections, ballots, directory: candidateDirectory(authCandidates(peers.client)), box });
    const tlog = transparencyLog({ repo: logRepository(db), signer, election: (id) => voting.election(id) });
    const logCalls = callRateLimiter({ perSecond: config.VOTE_LOG_CALLS_PER_SECOND, burst: config.VOTE_LOG_CALL_BURST });
    // Checkpoints for logs that have none at their head (new elections, migrated logs, a crash
    // between commit and signing); each commit signs its own otherwise.
    const runCatchUp = () => tlog.catchUp().catch((err: unknown) => log.warn({ err }, "signing transparency log checkpoints failed"));
    await runCatchUp();
    const admin = electionAdmin(elections, (e) => voting.forget(e.id));
    // Scheduled openings and closings: checked now (catching up after a restart) and every second.
    const scheduleFailures = new Map<number, string>();
    const runSchedule = () =>
      admin
        .runSchedule(Date.now(), (electionId, action, err) => {
          // Tried every second: say it once per election and reason.
          const reason = `${action}: ${(err as Error).message}`;
          if (scheduleFailures.get(electionId) === reason) return;
          scheduleFailures.set(electionId, reason);
          log.error({ err, electionId, action }, `scheduled ${action} of an election failed; tried again every second`);
        })
        .catch((err: unknown) => log.warn({ err }, "election schedule check failed"))
        .then(runCatchUp);
    await runSchedule();
    const scheduler = repeatWithoutOverlap(runSchedule, 1_000);
    const alarms = integrityAlarms(log, metrics.server.registry);

    const server = await startGrpcServer({
      host: config.HOST,
      port: config.VOTE_PORT,
      tls,
      services: [
        { name: "voting.vote.v1.ElectionService", definition: voteV1.ElectionServiceService, implementation: electionServiceImpl(voting, admin, log, alarms.of) },
        { name: "voting.vote.v1.VoteService", definition: voteServiceDefinition, implementation: voteServiceImpl(voting, feed, streams, log, tlog) },
        { name: "voting.log.v1.LogService", definition: logV1.LogServiceService, implementation: logServiceImpl(voting, tlog, logCalls, log) },
      ],
      access: voteAccess,
      verifier: createTokenVerifier({ keys: peers.keys, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE }),
      log,
      limits: { maxReceiveMessageBytes: config.GRPC_MAX_RECEIVE_BYTES, maxConcurrentStreams: config.GRPC_MAX_CONCURRENT_STREAMS },
      metrics: metrics.server,
      metricsHost: config.METRICS_HOST,
      metricsPort: config.VOTE_METRICS_PORT,
    });
    dbWatch = watchDatabase(db, { everyMs: config.DB_CHECK_EVERY_MS, log, setServing: server.setServing });
    // Reconciliation: a mismatch between the log and the turnout means the store was changed
    // behind the service's back; that election shows the alarm until it is gone.
    const runReconcile = async () => {
      try {
        const mismatches = await reconcile(elections, ballots);
        const found = new Set(mismatches.map((m) => m.electionId));
        for (const m of mismatches) {
          const detail = `the log holds ${m.ballots} ballots up to seq ${m.maxSeq}, the head is at seq ${m.headSeq} and ${m.turnout} voters are recorded as having voted: the store was changed outside vote-server`;
          alarms.raise(m.electionId, "reconciliation", detail);
        }
        for (const id of alarms.raised("reconciliation")) if (!found.has(id)) alarms.clear(id, "reconciliation");
      } catch (err) {
        log.warn({ err }, "reconciliation check failed");
      }
    };
    await runReconcile();
    const reconciler = repeatWithoutOverlap(runReconcile, config.VOTE_RECONCILE_EVERY_MS, { busyShare: config.VOTE_RECONCILE_BUSY_PERCENT / 100 });
    await peers.watchAuth(config.PEER_CHECK_EVERY_MS, (ok, err) => {
      if (!ok) log.warn({ err }, "auth-server cannot be reached; NOT_SERVING until it can");
      server.setServing(ok, "auth");
    });
    log.info({ address: `${config.HOST}:${server.port}` }, "vote-server listening");
    return {
      port: server.port,
      metricsPort: server.metricsPort,
      streamStats: () => ({ streams: streams.open(), followers: feed.stats().followers, tails: feed.stats().tails, logReads }),
      async stop() {
        scheduler.stop();
        reconciler.stop();
        dbWatch?.stop();
        feed.close();
        await server.shutdown();
        await box?.close();
        logKeys?.close();
        peers.close();
        await db.close();
      },
    };
  } catch (err) {
    await box?.close();
    logKeys?.close();
    peers.close();
    await db.close();
    throw err;
  }
}
