// A process's CPU priority, thread by thread: on Linux a nice value belongs to each thread
// (setpriority on the process id changes only the main thread), and libuv's pool, where
// argon2 and WebCrypto run, is made of threads that exist already or are made at first use.
import { setPriority } from "node:os";
import { randomFill } from "node:crypto";
import { readdir } from "node:fs/promises";

/**
 * Gives every thread of this process the nice value `nice` (higher is lower priority), after
 * making sure libuv's thread pool exists, so that the pool's threads are lowered too; threads
 * made later inherit it from the thread that makes them. Linux only: elsewhere it returns false.
 */
export async function lowerCpuPriority(nice: number): Promise<boolean> {
  if (process.platform !== "linux") return false;
  // A job on the pool starts all of its threads.
  await new Promise((resolve, reject) => randomFill(Buffer.alloc(1), (err) => (err ? reject(err) : resolve(undefined))));
  for (const tid of await readdir("/proc/self/task")) {
    try {
      setPriority(Number(tid), nice);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return true;
}
