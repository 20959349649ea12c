// Create or update Better Auth's tables in its SQLite file (npm run migrate). Better Auth's
// CLI needs Node 22.12+; getMigrations does the same from a script on Node 20.
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { authOptions, databasePath } from "../lib/auth-options.mjs";

const options = authOptions();
betterAuth(options);
const { toBeCreated, toBeAdded, runMigrations } = await getMigrations(options);
await runMigrations();
console.log(
  `Better Auth tables ready in ${databasePath()} (created ${toBeCreated.length}, altered ${toBeAdded.length})`,
);

// A PostgreSQL pool would keep the process alive for its idle timeout.
process.exit(0);
