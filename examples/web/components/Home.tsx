"use client";
// Signed out: the sign-in/sign-up form. Signed in: the app.
import { authClient } from "@/lib/auth-client";
import { AuthForm } from "./AuthForm";
import { TodoApp } from "./TodoApp";

export function Home({ apiUrl }: { apiUrl: string }) {
  const { data: session, isPending, refetch } = authClient.useSession();
  if (isPending) return <p className="loading">Loading…</p>;
  if (!session) return <AuthForm onSignedIn={() => void refetch()} />;
  const signOut = async () => {
    await authClient.signOut();
    await refetch();
  };
  return <TodoApp key={session.user.id} apiUrl={apiUrl} email={session.user.email} onSignOut={() => void signOut()} />;
}
