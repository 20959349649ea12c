"use client";
// Better Auth in the browser: sessions by cookie, and `token()` for taskapi's bearer header.
import { createAuthClient } from "better-auth/react";
import { jwtClient } from "better-auth/client/plugins";

export const authClient = createAuthClient({ plugins: [jwtClient()] });

/** A fresh JWT for taskapi; the SDK asks again when the API says TOKEN_EXPIRED. */
export async function getToken(): Promise<string> {
  const { data, error } = await authClient.token();
  if (!data) throw new Error(error?.message ?? "Not signed in");
  return data.token;
}
