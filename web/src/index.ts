export { buildWebApp } from "./app.js";
export { readWebConfig, WEB_ENV, type WebConfig } from "./config.js";
export { startWebServer } from "./server.js";
