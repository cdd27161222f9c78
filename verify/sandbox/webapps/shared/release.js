"use client";
// A client component carrying the release: its chunk's content hash changes with every release.
export default function Release() {
  const release = process.env.NEXT_PUBLIC_RELEASE;
  return <footer data-release={release}>release {release}</footer>;
}
