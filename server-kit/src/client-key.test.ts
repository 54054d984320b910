import { describe, expect, it } from "vitest";
import { clientKey } from "./client-key.js";

describe("clientKey", () => {
  it("when the caller is IPv4 (plain, prefixed or IPv4-mapped), then the key is its address", () => {
    expect(clientKey("10.0.0.1")).toBe("10.0.0.1");
    expect(clientKey("ipv4:10.0.0.1")).toBe("10.0.0.1");
    expect(clientKey("::ffff:10.0.0.1")).toBe("10.0.0.1");
  });

  it("when callers are in one IPv6 /64, then they share a key; another /64 has another", () => {
    const k = clientKey("2001:db8:1:2::1");
    expect(k).toBe("2001:db8:1:2::/64");
    expect(clientKey("2001:db8:1:2:ffff:ffff:ffff:fffe")).toBe(k);
    expect(clientKey("[2001:0db8:0001:0002:0:0:0:9]")).toBe(k);
    expect(clientKey("2001:db8:1:3::1")).not.toBe(k);
    expect(clientKey("::1")).toBe("0:0:0:0::/64");
    expect(clientKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
  });

  it("when the peer is not an IP address, then it is its own key", () => {
    expect(clientKey("unknown")).toBe("unknown");
    expect(clientKey("/tmp/socket")).toBe("/tmp/socket");
  });
});
