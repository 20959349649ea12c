// A real Better Auth server for backend/tests/test_better_auth.py: email sign-up and the jwt
// plugin, with its default settings or, given an argument, that key algorithm
// (node server.mjs [EdDSA|ES256|ES512|RS256|PS256]), and the audience TOKEN_AUDIENCE names. Signs a user up, gets a token the way
// authClient.token() does (GET /api/auth/token with the session cookie), prints one JSON line
// {"base_url", "jwks_url", "token", "user_id"} and keeps serving until it is killed. The line
// also carries what Better Auth signs with its own secret (HS256), to show that none of it is
// an API token even where the API is given that secret: "secret", "session_cache_jwt" (the
// session cookie cache in `jwt` mode) and "verification_token" (an email verification link's).
import http from "node:http";
import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { jwt } from "better-auth/plugins";
import { toNodeHandler } from "better-auth/node";

const algorithm = process.argv[2];
const server = http.createServer();
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const baseURL = `http://127.0.0.1:${server.address().port}`;

const secret = "e2e-better-auth-secret-0123456789abcdef";
// TOKEN_AUDIENCE: the tokens' `aud` (the MCP endpoint's URL, for tests/mcp), instead of the
// plugin's default (the base URL).
const audience = process.env.TOKEN_AUDIENCE;
const jwtOptions =
  algorithm || audience
    ? {
        ...(algorithm ? { jwks: { keyPairConfig: { alg: algorithm } } } : {}),
        ...(audience ? { jwt: { audience } } : {}),
      }
    : undefined;
let verificationToken;
const auth = betterAuth({
  baseURL,
  secret,
  database: memoryAdapter({ user: [], session: [], account: [], verification: [], jwks: [] }),
  emailAndPassword: { enabled: true },
  session: { cookieCache: { enabled: true, strategy: "jwt" } },
  emailVerification: {
    sendVerificationEmail: async ({ token }) => {
      verificationToken = token;
    },
  },
  plugins: [jwt(jwtOptions)],
});
server.on("request", toNodeHandler(auth));

const signUp = await auth.api.signUpEmail({
  body: { email: "alice@example.com", password: "correct horse battery", name: "Alice" },
  asResponse: true,
});
const cookies = signUp.headers.getSetCookie().map((c) => c.split(";")[0]);
const cookie = cookies.join("; ");
const sessionCache = cookies.find((c) => c.startsWith("better-auth.session_data="));
await auth.api.sendVerificationEmail({ body: { email: "alice@example.com" } });
const tokenResponse = await fetch(`${baseURL}/api/auth/token`, { headers: { cookie } });
const { token } = await tokenResponse.json();
const session = await (await fetch(`${baseURL}/api/auth/get-session`, { headers: { cookie } })).json();

console.log(JSON.stringify({
  base_url: baseURL,
  jwks_url: `${baseURL}/api/auth/jwks`,
  token,
  user_id: session.user.id,
  secret,
  session_cache_jwt: sessionCache.slice(sessionCache.indexOf("=") + 1),
  verification_token: verificationToken,
}));
