// Serves a witness directory read-only: GET / lists the origins (URI-escaped, one a line);
// GET /<origin>/checkpoint is the latest cosigned checkpoint; GET /<origin>/cosigned lists the
// sizes kept and GET /<origin>/cosigned/<size> returns one. Only names found by listing the
// directory are served, so no request path reaches outside it.
import { createServer, type Server } from "node:http";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { once } from "node:events";
import { WitnessDir } from "./witness-core.js";

export async function serveWitnessDir(root: string, port: number, host = "127.0.0.1"): Promise<Server> {
  const dir = new WitnessDir(root);
  const server = createServer(async (req, res) => {
    const send = (code: number, body: string) => {
      res.writeHead(code, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", "x-content-type-options": "nosniff" });
      res.end(req.method === "HEAD" ? undefined : body);
    };
    try {
      if (req.method !== "GET" && req.method !== "HEAD") return send(405, "read-only\n");
      const parts = (req.url ?? "/").split("?")[0].split("/").filter((p) => p !== "");
      const origins = await dir.origins();
      if (parts.length === 0) return send(200, origins.map((o) => `${o}\n`).join(""));
      // Compare the escaped form as listed: "a%2Fb" in the URL is the directory "a%2Fb".
      const origin = origins.find((o) => o === parts[0]);
      if (!origin) return send(404, "no such log\n");
      if (parts.length === 2 && parts[1] === "checkpoint") {
        const note = await readFile(join(root, origin, "checkpoint"), "utf8").catch(() => undefined);
        return note === undefined ? send(404, "nothing cosigned yet\n") : send(200, note);
      }
      const sizes = (await readdir(join(root, origin, "cosigned")).catch(() => [] as string[]))
        .map((f) => /^(\d+)\.note$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort((a, b) => Number(a) - Number(b));
      if (parts.length === 2 && parts[1] === "cosigned") return send(200, sizes.map((s) => `${s}\n`).join(""));
      if (parts.length === 3 && parts[1] === "cosigned" && sizes.includes(parts[2])) return send(200, await readFile(join(root, origin, "cosigned", `${parts[2]}.note`), "utf8"));
      return send(404, "not found\n");
    } catch {
      send(500, "error\n");
    }
  });
  server.listen(port, host);
  await once(server, "listening");
  return server;
}
