export { buildWebApp } from "./app.js";
export { readWebConfig, type WebConfig } from "./config.js";
export { startWebServer } from "./server.js";
