"use client";
import { useEffect } from "react";

// Loads after hydration; when its backend call fails it says so on the console, as real widgets do.
export default function Widgets({ failing }) {
  useEffect(() => {
    if (failing) console.error("widgets: GET /api/widgets failed (HTTP 500)");
  }, [failing]);
  return <section data-widgets={failing ? "failing" : "ok"}>widgets</section>;
}
