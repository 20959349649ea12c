"use client";
import { useState, type FormEvent } from "react";
import { authClient } from "@/lib/auth-client";

export function AuthForm({ onSignedIn }: { onSignedIn: () => void }) {
  const [mode, setMode] = useState<"in" | "up">("in");
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    const { error: failed } =
      mode === "up"
        ? await authClient.signUp.email({ name: name || email, email, password })
        : await authClient.signIn.email({ email, password });
    if (failed) setError(failed.message ?? "Could not sign in");
    else onSignedIn();
  };
  return (
    <main className="auth">
      <h1>{mode === "up" ? "Create an account" : "Sign in"}</h1>
      <form onSubmit={submit}>
        {mode === "up" && <input value={name} onChange={(e) => setName(e.target.value)} placeholder="Name" aria-label="Name" />}
        <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} placeholder="Email" aria-label="Email" required />
        <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} placeholder="Password" aria-label="Password" required minLength={8} />
        <button type="submit">{mode === "up" ? "Sign up" : "Sign in"}</button>
      </form>
      {error && <p className="error" role="alert">{error}</p>}
      <button className="link" onClick={() => setMode(mode === "up" ? "in" : "up")}>
        {mode === "up" ? "I have an account: sign in" : "New here? Create an account"}
      </button>
    </main>
  );
}
