// Adapters from async functions to grpc-js handlers: the only place that owns the
// grpc-js callback and turns thrown errors into statuses.
import { type Metadata, type ServiceDefinition, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData, type handleUnaryCall, type handleServerStreamingCall } from "@grpc/grpc-js";
import { once } from "node:events";
import { CancelledError, InvalidArgumentError } from "./errors.js";
import { statusOf, toStatus, type StatusObject } from "./rpc-status.js";
import { principalOf, type Principal } from "./auth.js";
import type { Logger } from "./logger.js";
import { callFields, requestIdOf } from "./call-log.js";
import { certificateNames, verifiedClientCertificate } from "./tls.js";

export interface CallContext {
  /** The verified token's subject, when the caller sent one. */
  principal: Principal | undefined;
  metadata: Metadata;
  /** Client address without its port, e.g. "ipv4:127.0.0.1". */
  peer: string;
  /** Aborted when the client cancels or the deadline passes. */
  signal: AbortSignal;
  /** Names (CN, DNS SANs) of the caller's client certificate if it verified against the CA; undefined without TLS or certificate. */
  certificateNames: string[] | undefined;
  /** For calls to peers made on behalf of this one: its deadline, cancellation and request id travel with them. */
  upstream: Upstream;
  /** For a lookup that concurrent calls share: this call's deadline and request id, not its cancellation (which would fail the others). */
  shared: Upstream;
  /** Made on first use: lines carry the call's request id, peer and principal. */
  log: Logger;
}

/** Spread into a peer call's options (the typed client's CallOptions take these fields). */
export interface Upstream {
  /** Absolute; Infinity when the caller set none. */
  deadline?: Date | number;
  signal?: AbortSignal;
  requestId?: string;
}

/**
 * A request the generated decoder refused (e.g. a uint64 above 2^53, which ts-proto cannot
 * hold in a number). grpc-js would answer INTERNAL; the adapters answer INVALID_ARGUMENT.
 */
class UndecodableRequest {
  constructor(readonly reason: string) {}
}

/** The definition with each request decoder wrapped so a decode error reaches the adapters. */
export function tolerantDeserializers(definition: ServiceDefinition): ServiceDefinition {
  const wrap = (decode: (bytes: Buffer) => unknown) => (bytes: Buffer) => {
    try {
      return decode(bytes);
    } catch (err) {
      return new UndecodableRequest(err instanceof Error ? err.message : String(err));
    }
  };
  return Object.fromEntries(Object.entries(definition).map(([name, m]) => [name, { ...m, requestDeserialize: wrap(m.requestDeserialize) }]));
}

function undecodable(request: unknown): StatusObject | undefined {
  if (!(request instanceof UndecodableRequest)) return undefined;
  return statusOf(new InvalidArgumentError(`request could not be decoded: ${request.reason}`, { reason: "UNDECODABLE_REQUEST" }));
}

type HandledCall = ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>;

/** A call's context; every part is made on first use (most unary handlers look at little of it). */
class HandlerContext implements CallContext {
  private controller: AbortController | undefined;
  constructor(
    private readonly call: HandledCall,
    private readonly parentLog: Logger,
  ) {}
  get principal() {
    return principalOf(this.call.metadata);
  }
  get metadata() {
    return this.call.metadata;
  }
  get peer() {
    return this.call.getPeer().replace(/:\d+$/, "");
  }
  get certificateNames() {
    const cert = verifiedClientCertificate(this.call);
    return cert && certificateNames(cert);
  }
  get signal() {
    // grpc-js reports every finished call as cancelled, which would build an AbortError per call.
    if (!this.controller) {
      const c = (this.controller = new AbortController());
      if (this.call.cancelled) c.abort();
      else this.call.once("cancelled", () => c.abort());
    }
    return this.controller.signal;
  }
  get log() {
    return callLog(this.parentLog, this.call.metadata);
  }
  get upstream(): Upstream {
    const ctx = this;
    // The signal is made only when a peer call reads it (an own property, so that spreading the options keeps it).
    return { deadline: this.call.getDeadline(), requestId: requestIdOf(this.call.metadata), get signal() { return ctx.signal; } };
  }
  get shared(): Upstream {
    return { deadline: this.call.getDeadline(), requestId: requestIdOf(this.call.metadata) };
  }
}

const contextOf = (call: HandledCall, log: Logger): CallContext => new HandlerContext(call, log);

/** A logger whose lines carry the call's request id, peer and principal. */
export const callLog = (log: Logger, metadata: Metadata): Logger => log.child(callFields(metadata));

/** `fn` may answer at once (a cached response) or with a promise. */
export function unary<Req, Res>(log: Logger, fn: (req: Req, ctx: CallContext) => Res | Promise<Res>): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    const bad = undecodable(call.request);
    if (bad) return callback(bad);
    const failed = (err: unknown) => callback(toStatus(err, callLog(log, call.metadata)));
    let answer: Res | Promise<Res>;
    try {
      answer = fn(call.request, contextOf(call, log));
    } catch (err) {
      return failed(err);
    }
    if (answer instanceof Promise) answer.then((res) => callback(null, res), failed);
    else callback(null, answer);
  };
}

/** `send` resolves when the message is buffered, waiting for the client to drain. */
export type Send<Res> = (message: Res) => Promise<void>;

export function serverStream<Req, Res>(
  log: Logger,
  fn: (req: Req, ctx: CallContext, send: Send<Res>) => Promise<void>,
): handleServerStreamingCall<Req, Res> {
  return (call: ServerWritableStream<Req, Res>) => {
    const ctx = contextOf(call, log);
    const send: Send<Res> = async (message) => {
      if (ctx.signal.aborted) throw new CancelledError("cancelled");
      if (!call.write(message)) await once(call, "drain", { signal: ctx.signal });
    };
    const bad = undecodable(call.request);
    if (bad) return void call.emit("error", bad);
    fn(call.request, ctx, send).then(
      () => call.end(),
      (err: unknown) => {
        if (ctx.signal.aborted) return;
        call.emit("error", toStatus(err, callLog(log, call.metadata)));
      },
    );
  };
}
