// better-sqlite3 is a native module: Next.js must load it from node_modules, not bundle it.
/** @type {import("next").NextConfig} */
const nextConfig = {
  serverExternalPackages: ["better-sqlite3"],
  // The app is served from 127.0.0.1 in tests and the demo; `next dev` checks the origin.
  allowedDevOrigins: ["127.0.0.1"],
};
export default nextConfig;
