// lib/taskapi.ts: one client for the app; the token is asked for once, then on TOKEN_EXPIRED.
import { createTaskApi } from "@taskapi/client";
import { authClient } from "./auth-client";

export const api = createTaskApi({
  baseUrl: process.env.NEXT_PUBLIC_TASKAPI_URL!,
  getToken: async () => {
    const { data, error } = await authClient.token();
    if (!data) throw error;
    return data.token;
  },
});
