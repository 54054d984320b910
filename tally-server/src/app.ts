// Composition of tally-server: used by main.ts and by tests, which start it in-process.
import { setMaxListeners } from "node:events";
import { isServiceError, methodName, stateName, Status, tallyV1, voteV1, type VotingClient } from "@voting/api";
import type { Method } from "@voting/election-core";
import { UnavailableError, connectPeers, createTokenVerifier, loadServicePrivateKey, openKeyRing, readKek, requireKeySource, type KeyRing, type RunningService, migrate, openDatabase, startGrpcServer, loadTls, integrityAlarms, watchDatabase, streamLimiter, type Logger } from "@voting/server-kit";
import type { TallyConfig } from "./config.js";
import { tallyMigrations } from "./db/migrations.js";
import type { TallyDb } from "./db/schema.js";
import { tallyRepository } from "./db/tally-repository.js";
import { statementRepository } from "./db/statement-repository.js";
import { statementSigner } from "./domain/statements.js";
import { broadcaster } from "./domain/broadcaster.js";
import { resultsOf, type ElectionResult } from "./domain/results.js";
import { tallyBook, type ElectionInfo, type VotePort } from "./domain/tally-book.js";
import { tallyAccess } from "./rpc/access.js";
import { tallyServiceDefinition, tallyServiceImpl } from "./rpc/tally-service.js";
import { tallyMetrics } from "./metrics.js";

/** vote-server not answering is UNAVAILABLE to our callers (and retried), not an internal error. */
function unreachable(err: unknown): never {
  if (isServiceError(err) && (err.code === Status.UNAVAILABLE || err.code === Status.DEADLINE_EXCEEDED)) {
    throw new UnavailableError(`vote-server cannot be reached: ${err.details}`, { reason: "PEER_UNAVAILABLE" });
  }
  throw err;
}

/** vote-server as the tally sees it, through the typed client; `reachable` false (health says so) fails fast. */
function votePort(client: VotingClient, reachable: () => boolean): VotePort {
  const up = () => {
    if (!reachable()) throw new UnavailableError("vote-server cannot be reached; try again shortly", { reason: "PEER_UNAVAILABLE" });
  };
  return {
    async getElection(id, upstream) {
      up();
      try {
        const { election } = await client.elections.getElection({ electionId: id, withoutTurnout: true }, { deadlineMs: 5_000, ...upstream });
        if (!election) return undefined;
        const method = methodName(election.method);
        const state = stateName(election.state);
        if (!method || !state) throw new Error(`election ${id} has an unknown method or state`);
        const logFormat = election.logFormat;
        if (logFormat !== 1 && logFormat !== 2) throw new Error(`election ${id} has an unknown ballot log format ${logFormat}`);
        return {
          id: election.id,
          title: election.title,
          method,
          seats: election.seats,
          state,
          resultsWhileOpen: election.resultsWhileOpen,
          ballotCount: election.ballotCount,
          genesisHash: election.logGenesisHash,
          logFormat,
          candidates: election.candidates,
        };
      } catch (err) {
        if (isServiceError(err) && err.code === Status.NOT_FOUND) return undefined;
        unreachable(err);
      }
    },
    async listElections() {
      up();
      const out: { id: number; state: ElectionInfo["state"] }[] = [];
      let pageToken = "";
      do {
        const page = await client.elections.listElections({ pageSize: 500, pageToken }, { deadlineMs: 5_000 }).catch(unreachable);
        for (const e of page.elections) {
          const state = stateName(e.state);
          if (state && state !== "draft") out.push({ id: e.id, state });
        }
        pageToken = page.nextPageToken;
      } while (pageToken !== "");
      return out;
    },
    async *streamBallots(electionId, afterSeq, signal) {
      const stream = await client.votes.streamBallots({ electionId, afterSeq, follow: true }, { signal });
      const messages = stream[Symbol.asyncIterator]();
      try {
        for (;;) {
          const first = await messages.next();
          if (first.done) return;
          // Take every message already buffered too, so one tally transaction covers them all.
          const batch = [first.value as voteV1.StreamBallotsResponse];
          while (stream.readableLength > 0) {
            const more = await messages.next();
            if (more.done) break;
            batch.push(more.value as voteV1.StreamBallotsResponse);
          }
          yield batch.flatMap((m) =>
            m.entries.map((e) => ({
              electionId: e.electionId,
              seq: e.seq,
              trackingCode: e.trackingCode,
              commitment: e.commitment,
              choices: e.ballot?.choices,
              salt: e.salt,
              hash: e.hash,
            })),
          );
        }
      } catch (err) {
        if (isServiceError(err) && err.code === Status.CANCELLED && signal.aborted) return;
        throw err;
      } finally {
        stream.cancel();
      }
    },
  };
}

export async function startTallyServer(config: TallyConfig, log: Logger): Promise<RunningService> {
  const tls = loadTls(config);
  const key = loadServicePrivateKey(config.TALLY_SERVICE_KEY_FILE, "TALLY_SERVICE_KEY_FILE");
  const kek = await readKek(config);
  requireKeySource({ keyFile: config.TALLY_SIGNING_KEY_FILE, kek, fileSetting: "TALLY_SIGNING_KEY_FILE" });
  const db = openDatabase<TallyDb>(config.DATABASE_URL);
  let keys: KeyRing | undefined;
  const closing = new AbortController();
  // Every open WatchResults listens for the shutdown; the stream limits bound how many.
  setMaxListeners(0, closing.signal);
  let voteReachable = true;
  const peers = connectPeers({ authAddr: config.AUTH_ADDR, voteAddr: config.VOTE_ADDR, account: "svc-tally", key, issuer: config.JWT_ISSUER, tls });
  try {
    await migrate(db, "tally_migrations", tallyMigrations({ dialect: db.dialect, log }));
    let server: Awaited<ReturnType<typeof startGrpcServer>> | undefined;
    const streams = streamLimiter({ perCaller: config.STREAM_MAX_PER_CALLER, perServer: config.STREAM_MAX_PER_SERVER });
    const metrics = tallyMetrics(() => streams.open());
    const alarms = integrityAlarms(log, metrics.server.registry);
    const book = tallyBook({
      repo: tallyRepository(db),
      votes: votePort(peers.client, () => voteReachable),
      log,
      onCounted: (id) => updates.changed(id),
      onApplied: metrics.applied,
      // Counting of that election stops; its results say why, and the others are counted on.
      onChainBroken: (id, reason) => {
        alarms.raise(id, "ballot-chain", `the ballot log's hash chain is broken (${reason}); counting stopped`);
        updates.changed(id);
      },
    });
    keys = await openKeyRing({
      db,
      table: "tally_signing_keys",
      fileSetting: "TALLY_SIGNING_KEY_FILE",
      keyFile: config.TALLY_SIGNING_KEY_FILE,
      kek,
      reloadMs: config.SIGNING_KEY_RELOAD_MS,
      rotateHours: config.SIGNING_KEY_ROTATE_HOURS,
      // Statements are permanent: every key that signed one stays published.
      retainSeconds: Infinity,
      log,
    });
    const results = resultsOf(book, statementSigner(keys, statementRepository(db)), alarms.of);
    const updates = broadcaster<ElectionResult>(results.fresh, 50, (err) => log.warn({ err }, "result update failed"));

    server = await startGrpcServer({
      host: config.HOST,
      port: config.TALLY_PORT,
      tls,
      services: [
        {
          name: "voting.tally.v1.TallyService",
          definition: tallyServiceDefinition(),
          implementation: tallyServiceImpl({ peek: results.peek, compute: results.current, subscribe: updates.subscribe }, keys.publicJwks, closing.signal, log, streams),
        },
      ],
      access: tallyAccess,
      verifier: createTokenVerifier({ keys: peers.keys, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE }),
      log,
      limits: { maxReceiveMessageBytes: config.GRPC_MAX_RECEIVE_BYTES, maxConcurrentStreams: config.GRPC_MAX_CONCURRENT_STREAMS },
      metrics: metrics.server,
      metricsHost: config.METRICS_HOST,
      metricsPort: config.TALLY_METRICS_PORT,
    });
    const running = book.run(closing.signal);
    const dbWatch = watchDatabase(db, { everyMs: config.DB_CHECK_EVERY_MS, log, setServing: server.setServing });
    await peers.watchAuth(config.PEER_CHECK_EVERY_MS, (ok, err) => {
      if (!ok) log.warn({ err }, "auth-server cannot be reached; NOT_SERVING until it can");
      server!.setServing(ok, "auth");
    });
    await peers.watchVote(config.PEER_CHECK_EVERY_MS, (ok, err) => {
      if (!ok) log.warn({ err }, "vote-server cannot be reached; NOT_SERVING until it can");
      voteReachable = ok;
      server!.setServing(ok, "vote");
    });
    log.info({ address: `${config.HOST}:${server.port}` }, "tally-server listening");
    const s = server;
    const ring = keys;
    return {
      port: s.port,
      metricsPort: s.metricsPort,
      async stop() {
        closing.abort();
        dbWatch.stop();
        await s.shutdown();
        await running;
        peers.close();
        ring.close();
        await db.close();
      },
    };
  } catch (err) {
    keys?.close();
    peers.close();
    await db.close();
    throw err;
  }
}
