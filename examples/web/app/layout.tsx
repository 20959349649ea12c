import type { ReactNode } from "react";
import "./globals.css";

export const metadata = { title: "Tasks", description: "A to-do app on taskapi" };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
