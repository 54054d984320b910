import type { FastifyInstance } from "fastify";
import { buildWebApp } from "./app.js";
import type { WebConfig } from "./config.js";

export interface WebServer {
  app: FastifyInstance;
  port: number;
  url: string;
  stop(): Promise<void>;
}

export async function startWebServer(config: WebConfig): Promise<WebServer> {
  const app = await buildWebApp(config);
  await app.listen({ host: config.host, port: config.port });
  const addr = app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : config.port;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  return { app, port, url: `${config.https ? "https" : "http"}://${host}:${port}/`, stop: () => app.close() };
}
