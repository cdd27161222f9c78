// What both apps' next.config.mjs share: the build id is the release the sandbox builds.
import path from "node:path";

export function nextConfig(appDir) {
  // Set by the sandbox when it builds; `next start` reads the built id from .next/BUILD_ID.
  const release = process.env.VERIFY_BUILD_ID || null;
  // node_modules lives one level above the apps (one install for both).
  const root = process.env.VERIFY_WEBAPPS_ROOT || path.resolve(appDir, "..");
  return {
    generateBuildId: async () => release,
    // Inlined into the client bundles: each release's chunks differ, as after a real deploy.
    env: { NEXT_PUBLIC_RELEASE: release || "dev" },
    turbopack: { root },
    outputFileTracingRoot: root,
  };
}
