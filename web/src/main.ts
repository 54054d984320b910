// Composition root of the web front end.
import { readWebConfig } from "./config.js";
import { startWebServer } from "./server.js";

const server = await startWebServer(readWebConfig());
console.log(`web on ${server.url}`);
const stop = () => void server.stop().then(() => process.exit(0));
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
