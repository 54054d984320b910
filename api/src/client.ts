// The one typed, promise-based client of the three services. The CLI (client/ re-exports it),
// the integration tests and the servers' calls to each other all go through it.
import { credentials, Metadata, status as Status, type CallOptions as GrpcCallOptions, type ChannelCredentials, type ClientReadableStream, type ClientUnaryCall, type ServiceError } from "@grpc/grpc-js";
import * as authV1 from "./gen/voting/auth/v1/auth.js";
import * as logV1 from "./gen/voting/log/v1/log.js";
import * as tallyV1 from "./gen/voting/tally/v1/tally.js";
import * as voteV1 from "./gen/voting/vote/v1/vote.js";
import { randomBytes } from "node:crypto";
import { DEFAULT_RETRY, retrier, type RetryPolicy } from "./retry.js";
import { lazyStreamBallotsResponse } from "./ballot-stream-decode.js";
import { clientSpan, injectTraceContext } from "./tracing.js";

export { Status };
export type { ServiceError };
export type { RetryPolicy, RetryStats } from "./retry.js";

export interface ClientOptions {
  authAddr?: string;
  voteAddr?: string;
  tallyAddr?: string;
  /** Bearer token sent with every call, or a function that supplies one per call. */
  token?: string | TokenSource;
  /** Default deadline of unary calls; default 10 s. */
  deadlineMs?: number;
  /**
   * Wait (up to the deadline) for a server that is down or restarting instead of failing at
   * once with UNAVAILABLE. Servers calling each other and tests set it; the CLI does not.
   */
  waitForReady?: boolean;
  /** Dial with TLS (else plaintext); `credentials` overrides both. */
  tls?: TlsOptions;
  credentials?: ChannelCredentials;
  /**
   * Retries of calls that are safe to repeat (reads, and CastVote with the same idempotency
   * key) after UNAVAILABLE, within the call's deadline; default DEFAULT_RETRY, `attempts: 1`
   * for none. Calls that change something otherwise are never retried.
   */
  retry?: Partial<RetryPolicy>;
}

export interface TlsOptions {
  /** PEM CA that the servers' certificates must chain to; their names must match the addresses dialled. */
  ca: Buffer;
  /** PEM client certificate and key, for a caller that has one (the servers, to each other). */
  cert?: Buffer;
  key?: Buffer;
}

export function tlsCredentials(tls: TlsOptions): ChannelCredentials {
  return credentials.createSsl(tls.ca, tls.key ?? null, tls.cert ?? null);
}

export type TokenSource = () => Promise<string | undefined>;

export interface CallOptions {
  deadlineMs?: number;
  /** The call ends by then at the latest: a server passes its caller's deadline (Infinity: none). */
  deadline?: Date | number;
  /** Sent as x-request-id; servers put it on their log lines and pass it on to their peers. */
  requestId?: string;
  /** Overrides the client's token for this call. */
  token?: string;
  signal?: AbortSignal;
}

export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as ServiceError).code === "number" && "details" in err;
}

type Callback<Res> = (err: ServiceError | null, res?: Res) => void;
type UnaryMethod<Req, Res> = (req: Req, md: Metadata, opts: Partial<GrpcCallOptions>, cb: Callback<Res>) => ClientUnaryCall;
type StreamMethod<Req, Res> = (req: Req, md: Metadata, opts?: Partial<GrpcCallOptions>) => ClientReadableStream<Res>;

type Partial2<T> = voteV1.DeepPartial<T>;

const DEFAULT_DEADLINE_MS = 10_000;

export type VotingClient = ReturnType<typeof createVotingClient>;

export function createVotingClient(opts: ClientOptions = {}) {
  const creds = opts.credentials ?? (opts.tls ? tlsCredentials(opts.tls) : credentials.createInsecure());
  const channelOptions = {
    "grpc.max_receive_message_length": 64 * 1024 * 1024,
    "grpc.keepalive_time_ms": 60_000,
    // HTTP/2's default 64 KiB window holds a quarter of one StreamBallots page: a reader of a
    // long log would wait for a window update every 250 entries.
    "grpc-node.flow_control_window": 8 * 1024 * 1024,
  };
  const lazy = <T extends { close(): void }>(make: () => T) => {
    let instance: T | undefined;
    return { get: () => (instance ??= make()), close: () => instance?.close() };
  };
  const authStub = lazy(() => new authV1.AuthServiceClient(opts.authAddr ?? "localhost:50051", creds, channelOptions));
  const electionStub = lazy(() => new voteV1.ElectionServiceClient(opts.voteAddr ?? "localhost:50052", creds, channelOptions));
  const voteStub = lazy(() => new voteV1.VoteServiceClient(opts.voteAddr ?? "localhost:50052", creds, channelOptions));
  const tallyStub = lazy(() => new tallyV1.TallyServiceClient(opts.tallyAddr ?? "localhost:50053", creds, channelOptions));
  const logStub = lazy(() => new logV1.LogServiceClient(opts.voteAddr ?? "localhost:50052", creds, channelOptions));

  const metadataFor = async (call: CallOptions): Promise<Metadata> => {
    const md = new Metadata();
    const token = call.token ?? (typeof opts.token === "function" ? await opts.token() : opts.token);
    if (token) md.set("authorization", `Bearer ${token}`);
    if (call.requestId) md.set("x-request-id", call.requestId);
    return md;
  };

  const retries = retrier({ ...DEFAULT_RETRY, ...opts.retry });
  /** `safe`: the call may be repeated as it is (see ClientOptions.retry). */
  const unary = <Req, Res>(stub: object, method: UnaryMethod<Req, Res>, safe = false) =>
    async (req: Req, call: CallOptions = {}): Promise<Res> => {
      const md = await metadataFor(call);
      const deadline = Math.min(Date.now() + (call.deadlineMs ?? opts.deadlineMs ?? DEFAULT_DEADLINE_MS), Number(call.deadline ?? Infinity));
      const once = () => new Promise<Res>((resolve, reject) => {
        const span = clientSpan((method as { path?: string }).path, md);
        const cancel = () => c.cancel();
        const c = method.call(stub, req, md, { deadline, waitForReady: opts.waitForReady }, (err, res) => {
          call.signal?.removeEventListener("abort", cancel);
          span?.(err?.code ?? Status.OK, err?.details);
          if (err) reject(err);
          else resolve(res as Res);
        });
        call.signal?.addEventListener("abort", cancel, { once: true });
        if (call.signal?.aborted) cancel();
      });
      return safe ? retries.run(once, deadline, call.signal) : once();
    };

  const stream = <Req, Res>(stub: object, method: StreamMethod<Req, Res>) =>
    async (req: Req, call: CallOptions = {}): Promise<ClientReadableStream<Res>> => {
      const md = await metadataFor(call);
      injectTraceContext(md);
      const until = Math.min(call.deadlineMs ? Date.now() + call.deadlineMs : Infinity, Number(call.deadline ?? Infinity));
      const options = { ...(until !== Infinity ? { deadline: until } : {}), waitForReady: opts.waitForReady };
      const s = method.call(stub, req, md, options);
      if (call.signal) {
        const cancel = () => s.cancel();
        call.signal.addEventListener("abort", cancel, { once: true });
        s.once("close", () => call.signal!.removeEventListener("abort", cancel));
        if (call.signal.aborted) cancel();
      }
      return s;
    };

  // Whole logs are read through StreamBallots: its messages are decoded as they are read, and
  // without the generated decoder's BigInts (ballot-stream-decode.ts).
  const streamBallots: StreamMethod<voteV1.StreamBallotsRequest, voteV1.StreamBallotsResponse> = function (this: voteV1.VoteServiceClient, req, md, options) {
    const { path, requestSerialize } = voteV1.VoteServiceService.streamBallots;
    return this.makeServerStreamRequest(path, requestSerialize, lazyStreamBallotsResponse, req, md, options);
  };

  const a = authStub.get;
  const e = electionStub.get;
  const v = voteStub.get;
  const t = tallyStub.get;
  const l = logStub.get;

  return {
    auth: {
      register: (req: Partial2<authV1.RegisterRequest>, c?: CallOptions) =>
        unary(a(), a().register)(authV1.RegisterRequest.fromPartial(req), c),
      login: (req: Partial2<authV1.LoginRequest>, c?: CallOptions) => unary(a(), a().login)(authV1.LoginRequest.fromPartial(req), c),
      refreshToken: (req: Partial2<authV1.RefreshTokenRequest>, c?: CallOptions) =>
        unary(a(), a().refreshToken)(authV1.RefreshTokenRequest.fromPartial(req), c),
      getUser: (req: Partial2<authV1.GetUserRequest>, c?: CallOptions) => unary(a(), a().getUser, true)(authV1.GetUserRequest.fromPartial(req), c),
      listUsers: (req: Partial2<authV1.ListUsersRequest>, c?: CallOptions) =>
        unary(a(), a().listUsers, true)(authV1.ListUsersRequest.fromPartial(req), c),
      getJwks: (c?: CallOptions) => unary(a(), a().getJwks, true)({}, c),
      issueServiceToken: (req: Partial2<authV1.IssueServiceTokenRequest>, c?: CallOptions) =>
        unary(a(), a().issueServiceToken)(authV1.IssueServiceTokenRequest.fromPartial(req), c),
    },
    elections: {
      createElection: (req: Partial2<voteV1.CreateElectionRequest>, c?: CallOptions) =>
        unary(e(), e().createElection)(voteV1.CreateElectionRequest.fromPartial(req), c),
      addCandidate: (req: Partial2<voteV1.AddCandidateRequest>, c?: CallOptions) =>
        unary(e(), e().addCandidate)(voteV1.AddCandidateRequest.fromPartial(req), c),
      addToVoterRoll: (req: Partial2<voteV1.AddToVoterRollRequest>, c?: CallOptions) =>
        unary(e(), e().addToVoterRoll)(voteV1.AddToVoterRollRequest.fromPartial(req), c),
      openElection: (req: Partial2<voteV1.OpenElectionRequest>, c?: CallOptions) =>
        unary(e(), e().openElection)(voteV1.OpenElectionRequest.fromPartial(req), c),
      closeElection: (req: Partial2<voteV1.CloseElectionRequest>, c?: CallOptions) =>
        unary(e(), e().closeElection)(voteV1.CloseElectionRequest.fromPartial(req), c),
      getElection: (req: Partial2<voteV1.GetElectionRequest>, c?: CallOptions) =>
        unary(e(), e().getElection, true)(voteV1.GetElectionRequest.fromPartial(req), c),
      listElections: (req: Partial2<voteV1.ListElectionsRequest>, c?: CallOptions) =>
        unary(e(), e().listElections, true)(voteV1.ListElectionsRequest.fromPartial(req), c),
    },
    votes: {
      /** Sends a fresh random idempotency key unless the request has one; reuse it to retry (the client's own retries do). */
      castVote: (req: Partial2<voteV1.CastVoteRequest>, c?: CallOptions) =>
        unary(v(), v().castVote, true)(
          voteV1.CastVoteRequest.fromPartial({ ...req, idempotencyKey: req.idempotencyKey ?? newIdempotencyKey() }),
          c,
        ),
      getReceipt: (req: Partial2<voteV1.GetReceiptRequest>, c?: CallOptions) =>
        unary(v(), v().getReceipt, true)(voteV1.GetReceiptRequest.fromPartial(req), c),
      streamBallots: (req: Partial2<voteV1.StreamBallotsRequest>, c?: CallOptions) =>
        stream(v(), streamBallots)(voteV1.StreamBallotsRequest.fromPartial(req), c),
    },
    tally: {
      getResults: (req: Partial2<tallyV1.GetResultsRequest>, c?: CallOptions) =>
        unary(t(), t().getResults, true)(tallyV1.GetResultsRequest.fromPartial(req), c),
      watchResults: (req: Partial2<tallyV1.WatchResultsRequest>, c?: CallOptions) =>
        stream(t(), t().watchResults)(tallyV1.WatchResultsRequest.fromPartial(req), c),
      getJwks: (c?: CallOptions) => unary(t(), t().getJwks, true)({}, c),
    },
    // The transparency log of vote-server (docs/transparency-log.md); public.
    log: {
      getCheckpoint: (req: Partial2<logV1.GetCheckpointRequest>, c?: CallOptions) =>
        unary(l(), l().getCheckpoint, true)(logV1.GetCheckpointRequest.fromPartial(req), c),
      getInclusionProof: (req: Partial2<logV1.GetInclusionProofRequest>, c?: CallOptions) =>
        unary(l(), l().getInclusionProof, true)(logV1.GetInclusionProofRequest.fromPartial(req), c),
      getConsistencyProof: (req: Partial2<logV1.GetConsistencyProofRequest>, c?: CallOptions) =>
        unary(l(), l().getConsistencyProof, true)(logV1.GetConsistencyProofRequest.fromPartial(req), c),
    },
    /** How many calls were retried after UNAVAILABLE (ClientOptions.retry), for tests and load tools to report. */
    retryStats: retries.stats,
    close() {
      for (const s of [authStub, electionStub, voteStub, tallyStub, logStub]) s.close();
    },
  };
}

export function newIdempotencyKey(): Buffer {
  return randomBytes(32);
}
