// Better Auth's options, shared by the app (lib/auth.ts) and scripts/migrate.mjs, so the
// tables the script creates are the ones the app uses. Its own SQLite file, or PostgreSQL
// when AUTH_DATABASE_URL is set (postgres://...). Email and password, and the jwt
// plugin: `authClient.token()` then gives the bearer token taskapi verifies through
// /api/auth/jwks (AUTH_JWKS_URL, AUTH_ISSUER and AUTH_AUDIENCE = this app's URL).
import Database from "better-sqlite3";
import pg from "pg";
import { jwt } from "better-auth/plugins";

/** Where the users are: AUTH_DATABASE_URL (PostgreSQL), else the SQLite file
 * AUTH_DATABASE_PATH (default ./auth.sqlite beside package.json). */
export function databasePath() {
  const url = process.env.AUTH_DATABASE_URL;
  return url ? url.replace(/\/\/[^@/]*@/, "//") : (process.env.AUTH_DATABASE_PATH ?? "auth.sqlite");
}

function database() {
  const url = process.env.AUTH_DATABASE_URL;
  return url ? new pg.Pool({ connectionString: url }) : new Database(databasePath());
}

export function authOptions() {
  const baseURL = process.env.BETTER_AUTH_URL ?? "http://localhost:3000";
  return {
    baseURL,
    secret: process.env.BETTER_AUTH_SECRET ?? "dev-only-secret-change-me-0123456789abcdef",
    database: database(),
    emailAndPassword: { enabled: true, autoSignIn: true },
    plugins: [jwt()],
  };
}
