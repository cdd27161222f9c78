"use client";
import { useEffect, useState } from "react";

// Renders its children only in the browser when `clientOnly`: the server HTML then lacks them.
export default function Deferred({ clientOnly, children }) {
  const [mounted, setMounted] = useState(false);
  useEffect(() => setMounted(true), []);
  if (clientOnly && !mounted) return <p>Loading…</p>;
  return children;
}
