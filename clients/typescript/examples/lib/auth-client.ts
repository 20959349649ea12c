// Stands in for Better Auth's client (`createAuthClient({ plugins: [jwtClient()] })`) so the
// examples type-check without it: the same `token()` shape.
export const authClient = {
  async token(): Promise<{ data: { token: string } | null; error: Error | null }> {
    const response = await fetch("/api/auth/token", { credentials: "include" });
    return response.ok
      ? { data: (await response.json()) as { token: string }, error: null }
      : { data: null, error: new Error(`token: ${response.status}`) };
  },
};
