// Adapters from async functions to grpc-js handlers: the only place that owns the
// grpc-js callback and turns thrown errors into statuses.
import { status as Status, type Metadata, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData, type handleUnaryCall, type handleServerStreamingCall } from "@grpc/grpc-js";
import { once } from "node:events";
import { RpcError } from "./errors.js";
import { principalOf, type Principal } from "./auth.js";
import type { Logger } from "./logger.js";

export interface CallContext {
  /** The verified token's subject, when the caller sent one. */
  principal: Principal | undefined;
  metadata: Metadata;
  /** Client address without its port, e.g. "ipv4:127.0.0.1". */
  peer: string;
  /** Aborted when the client cancels or the deadline passes. */
  signal: AbortSignal;
}

export interface StatusObject {
  code: Status;
  details: string;
}

export function toStatus(err: unknown, log: Logger): StatusObject {
  if (err instanceof RpcError) return { code: err.code, details: err.message };
  log.error({ err }, "unhandled error");
  return { code: Status.INTERNAL, details: "internal error" };
}

function contextOf(call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>): CallContext {
  // Made on first use: most unary handlers never look, and grpc-js reports every finished
  // call as cancelled, which would build an AbortError per call.
  let controller: AbortController | undefined;
  return {
    principal: principalOf(call.metadata),
    metadata: call.metadata,
    get peer() {
      return call.getPeer().replace(/:\d+$/, "");
    },
    get signal() {
      if (!controller) {
        const c = (controller = new AbortController());
        if (call.cancelled) c.abort();
        else call.once("cancelled", () => c.abort());
      }
      return controller.signal;
    },
  };
}

export function unary<Req, Res>(log: Logger, fn: (req: Req, ctx: CallContext) => Promise<Res>): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    fn(call.request, contextOf(call)).then(
      (res) => callback(null, res),
      (err: unknown) => callback(toStatus(err, log)),
    );
  };
}

/** `send` resolves when the message is buffered, waiting for the client to drain. */
export type Send<Res> = (message: Res) => Promise<void>;

export function serverStream<Req, Res>(
  log: Logger,
  fn: (req: Req, ctx: CallContext, send: Send<Res>) => Promise<void>,
): handleServerStreamingCall<Req, Res> {
  return (call: ServerWritableStream<Req, Res>) => {
    const ctx = contextOf(call);
    const send: Send<Res> = async (message) => {
      if (ctx.signal.aborted) throw new RpcError(Status.CANCELLED, "cancelled");
      if (!call.write(message)) await once(call, "drain", { signal: ctx.signal });
    };
    fn(call.request, ctx, send).then(
      () => call.end(),
      (err: unknown) => {
        if (ctx.signal.aborted) return;
        const s = toStatus(err, log);
        call.emit("error", { code: s.code, details: s.details });
      },
    );
  };
}
