// Server side only: the faults the sandbox switched on for this app, read on every request.
import fs from "node:fs";

export function activeFaults() {
  const file = process.env.VERIFY_FAULTS_FILE;
  if (!file) return [];
  try {
    const parsed = JSON.parse(fs.readFileSync(file, "utf8"));
    return Array.isArray(parsed.faults) ? parsed.faults : [];
  } catch {
    return [];
  }
}
