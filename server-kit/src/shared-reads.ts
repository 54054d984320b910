// Many callers asking for the same costly read (a whole-log count behind a public RPC) share
// one: at most one read per key runs at a time, and callers who arrive while it runs share the
// one read that starts after it. Each caller still gets a read that began after it asked, so
// nothing it did before asking is missed; a flood of callers costs one read after another,
// never a pile of them.

/** A running read, and the one its latecomers wait for, if any. */
interface Flight<V> {
  queued?: { promise: Promise<V>; resolve: (v: V) => void; reject: (e: unknown) => void };
}

/** Wraps `read` so that concurrent calls with the same key share reads, as above. */
export function sharedReads<K, V>(read: (key: K) => Promise<V>): (key: K) => Promise<V> {
  const running = new Map<K, Flight<V>>();
  const start = (key: K): Promise<V> => {
    const flight: Flight<V> = {};
    running.set(key, flight);
    const result = Promise.resolve().then(() => read(key));
    const settled = () => {
      if (flight.queued) start(key).then(flight.queued.resolve, flight.queued.reject);
      else running.delete(key);
    };
    result.then(settled, settled);
    return result;
  };
  return (key) => {
    const flight = running.get(key);
    if (!flight) return start(key);
    if (!flight.queued) {
      let resolve!: (v: V) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<V>((res, rej) => ((resolve = res), (reject = rej)));
      flight.queued = { promise, resolve, reject };
    }
    return flight.queued.promise;
  };
}
