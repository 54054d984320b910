// The key under which per-client limits count a caller: its IPv4 address, or its IPv6 /64
// (one subscriber usually holds a whole /64, so counting single IPv6 addresses is no limit).
import { isIPv4, isIPv6 } from "node:net";

function ipv6Groups(address: string): number[] | undefined {
  let s = address.split("%")[0];
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number);
    s = `${s.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  if (fill < 0) return undefined;
  const groups = [...head, ...Array<string>(fill).fill("0"), ...tail].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => g >= 0 && g <= 0xffff) ? groups : undefined;
}

/**
 * "ipv4:10.0.0.1" or "10.0.0.1" -> "10.0.0.1"; "2001:db8:1:2:aa::1" -> "2001:db8:1:2::/64";
 * an IPv4-mapped IPv6 address -> its IPv4 address; anything else is returned as it is.
 */
export function clientKey(peer: string): string {
  const address = peer.replace(/^ipv[46]:/, "").replace(/^\[(.*)\]$/, "$1");
  if (isIPv4(address)) return address;
  if (!isIPv6(address)) return peer;
  const g = ipv6Groups(address);
  if (!g) return peer;
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `${g[6] >> 8}.${g[6] & 0xff}.${g[7] >> 8}.${g[7] & 0xff}`;
  return `${g.slice(0, 4).map((x) => x.toString(16)).join(":")}::/64`;
}
