// The byte-level checks of ballot log messages (election-core's checkSpans) on a thread of
// their own: `voting audit` hashes a message here while its main thread counts, writes and
// builds the tree of the previous ones, so the two overlap on two cores. Each request is
// independent (it carries the chain hash to start from), so answers are a pure function of it.
import { setFlagsFromString } from "node:v8";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { checkSpans, SPAN_STRIDE } from "@voting/election-core";

/** Marks the threads started here: this module may also be loaded in other threads (test runners). */
const THREAD_TAG = "voting-span-check";

interface Request {
  bytes: Uint8Array;
  spans: Float64Array;
  count: number;
  firstSeq: number;
  prev: Uint8Array;
}

/** How many entries passed (all of them, or the index of the first that did not), and their leaf hashes. */
export interface SpanCheckAnswer {
  checked: number;
  leaves: Buffer;
}

/** One worker thread that answers checkSpans requests in order. */
export class SpanCheckWorker {
  private readonly worker: Worker;
  private readonly waiting: ((a: SpanCheckAnswer | undefined) => void)[] = [];
  private dead = false;

  constructor() {
    // The hashes leave three short strings per entry: with V8's default first young generation
    // (1 MB) the thread collected it 120 times per million entries, 0.2-0.3 s; from 16 MB, 15
    // times, 0.05-0.08 s. Read when an isolate is created, so it only sizes threads started after.
    setFlagsFromString("--min-semi-space-size=16");
    // Built JavaScript even under the tests, which run the sources: src/cli and dist/cli are at the same depth.
    this.worker = new Worker(new URL("../../dist/cli/span-check-worker.js", import.meta.url), { workerData: THREAD_TAG });
    this.worker.unref();
    this.worker.on("message", (m: { checked: number; leaves: Uint8Array }) => this.answer({ checked: m.checked, leaves: Buffer.from(m.leaves.buffer, m.leaves.byteOffset, m.leaves.byteLength) }));
    // A worker that fails answers nothing more: what it was asked is checked on the caller's thread.
    const fail = () => {
      this.dead = true;
      while (this.waiting.length > 0) this.answer(undefined);
    };
    this.worker.on("error", fail);
    this.worker.on("messageerror", fail);
    this.worker.on("exit", fail);
  }

  /** Whether requests can still be sent. */
  get alive() {
    return !this.dead;
  }

  /**
   * checkSpans over copies of the message bytes and spans, from the chain hash `prev` (32
   * bytes). Undefined when the worker failed: the caller checks the message itself.
   */
  check(bytes: Uint8Array, spans: Float64Array, count: number, firstSeq: number, prev: Uint8Array): Promise<SpanCheckAnswer | undefined> {
    if (this.dead) return Promise.resolve(undefined);
    // Copies in memory of their own, moved to the thread (a Buffer may share a pool with others).
    const request: Request = { bytes: new Uint8Array(bytes), spans: spans.slice(0, count * SPAN_STRIDE), count, firstSeq, prev: new Uint8Array(prev) };
    // Held open only while an answer is awaited: an idle worker never keeps the process alive.
    if (this.waiting.length === 0) this.worker.ref();
    const answer = new Promise<SpanCheckAnswer | undefined>((resolve) => this.waiting.push(resolve));
    this.worker.postMessage(request, [request.bytes.buffer, request.spans.buffer, request.prev.buffer] as ArrayBuffer[]);
    return answer;
  }

  private answer(a: SpanCheckAnswer | undefined) {
    this.waiting.shift()?.(a);
    if (this.waiting.length === 0) this.worker.unref();
  }

  /** Stops the thread; requests still waiting are answered undefined. */
  close(): void {
    this.dead = true;
    void this.worker.terminate();
  }
}

if (!isMainThread && workerData === THREAD_TAG && parentPort) {
  const port = parentPort;
  port.on("message", ({ bytes, spans, count, firstSeq, prev }: Request) => {
    // Its own memory, so it can be moved back without a copy.
    const leaves = new Uint8Array(32 * count);
    const checked = checkSpans(bytes, spans, count, firstSeq, prev, leaves);
    port.postMessage({ checked, leaves }, [leaves.buffer]);
  });
}
