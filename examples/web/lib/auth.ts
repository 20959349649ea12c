// The Better Auth server (route handler in app/api/auth/[...all]).
import { betterAuth } from "better-auth";
import { authOptions } from "./auth-options.mjs";

export const auth = betterAuth(authOptions());
