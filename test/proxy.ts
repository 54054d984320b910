// A TCP proxy whose outgoing connections leave from another loopback address, so a test can
// call a server "from" 127.0.0.2 (grpc-js cannot choose its source address).
import { createServer, connect, type AddressInfo, type Socket } from "node:net";

export interface Proxy {
  /** host:port to dial instead of the target. */
  addr: string;
  close(): Promise<void>;
}

export async function proxyFrom(localAddress: string, target: string): Promise<Proxy> {
  const [host, port] = [target.slice(0, target.lastIndexOf(":")), Number(target.slice(target.lastIndexOf(":") + 1))];
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound = connect({ host, port, localAddress });
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => (inbound.destroy(), outbound.destroy()));
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    addr: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
