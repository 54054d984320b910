// One WatchResults stream per election, shared by every browser watching it (the services
// bound streams per caller, and this server is one caller): the latest result is kept for new
// watchers, and the stream ends when the last watcher leaves.
import type { ClientReadableStream } from "@grpc/grpc-js";
import type { tallyV1, VotingClient } from "@voting/client";

type Listener = (event: { result?: tallyV1.ElectionResult; error?: unknown }) => void;

interface Feed {
  listeners: Set<Listener>;
  latest?: tallyV1.ElectionResult;
  stop: AbortController;
}

export class ResultsHub {
  private readonly feeds = new Map<number, Feed>();

  constructor(private readonly client: VotingClient) {}

  /** Calls `listener` with every update of the election's result; returns the unsubscribe. */
  subscribe(electionId: number, listener: Listener): () => void {
    let feed = this.feeds.get(electionId);
    if (!feed) {
      const created: Feed = { listeners: new Set(), stop: new AbortController() };
      feed = created;
      this.feeds.set(electionId, created);
      void this.follow(electionId, created);
    }
    feed.listeners.add(listener);
    if (feed.latest) listener({ result: feed.latest });
    return () => {
      feed.listeners.delete(listener);
      if (feed.listeners.size === 0) this.end(electionId, feed);
    };
  }

  private end(electionId: number, feed: Feed): void {
    feed.stop.abort();
    if (this.feeds.get(electionId) === feed) this.feeds.delete(electionId);
  }

  private async follow(electionId: number, feed: Feed): Promise<void> {
    let stream: ClientReadableStream<tallyV1.WatchResultsResponse> | undefined;
    try {
      stream = await this.client.tally.watchResults({ electionId }, { signal: feed.stop.signal });
      for await (const msg of stream) {
        feed.latest = msg.result;
        for (const l of feed.listeners) l({ result: msg.result });
        if (msg.result?.final) break;
      }
    } catch (err) {
      if (!feed.stop.signal.aborted) for (const l of feed.listeners) l({ error: err });
    } finally {
      stream?.cancel();
      // Watchers still here reconnect (EventSource does) and start a new feed.
      if (this.feeds.get(electionId) === feed) this.feeds.delete(electionId);
    }
  }

  close(): void {
    for (const [id, feed] of this.feeds) this.end(id, feed);
  }
}
