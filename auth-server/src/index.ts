export { startAuthServer, type RunningService } from "./app.js";
export { readAuthConfig, authSettings, type AuthConfig } from "./config.js";
