// Better Auth's options, shared by the app (lib/auth.ts) and scripts/migrate.mjs, so the
// tables the script creates are the ones the app uses. Email and password, and the jwt
// plugin: `authClient.token()` then gives the bearer token taskapi verifies through
// /api/auth/jwks (AUTH_JWKS_URL, AUTH_ISSUER and AUTH_AUDIENCE = this app's URL).
import Database from "better-sqlite3";
import { jwt } from "better-auth/plugins";

/** The SQLite file: AUTH_DATABASE_PATH, else ./auth.sqlite beside package.json. */
export function databasePath() {
  return process.env.AUTH_DATABASE_PATH ?? "auth.sqlite";
}

export function authOptions() {
  const baseURL = process.env.BETTER_AUTH_URL ?? "http://localhost:3000";
  return {
    baseURL,
    secret: process.env.BETTER_AUTH_SECRET ?? "dev-only-secret-change-me-0123456789abcdef",
    database: new Database(databasePath()),
    emailAndPassword: { enabled: true, autoSignIn: true },
    plugins: [jwt()],
  };
}
