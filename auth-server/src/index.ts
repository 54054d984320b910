export { startAuthServer } from "./app.js";
export { readAuthConfig, authSettings, type AuthConfig } from "./config.js";
export type { RunningService } from "@voting/server-kit";
export { refreshFamilyRepository } from "./db/refresh-family-repository.js";
