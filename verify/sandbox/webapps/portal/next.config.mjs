import { nextConfig } from "../shared/config.mjs";

export default nextConfig(import.meta.dirname);
