// Small shared pieces: status badges, time formatting, the hash router.
import { useEffect, useState } from "preact/hooks";

export function StatusBadge({ status }: { status: string }) {
  return (
    <span class={`badge st-${status.toLowerCase()}`} data-status={status}>
      {status}
    </span>
  );
}

export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return "–";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString(undefined, { hour12: false });
}

export function fmtNum(n: unknown, digits = 2): string {
  return typeof n === "number" && Number.isFinite(n) ? String(Number(n.toFixed(digits))) : "–";
}

export function show(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null && "message" in value) {
    const v = value as { code?: unknown; message?: unknown };
    return v.code ? `${String(v.code)}: ${String(v.message)}` : String(v.message);
  }
  return JSON.stringify(value);
}

/** The current `#/…` route, re-rendered on hashchange. */
export function useHashRoute(): string {
  const read = () => window.location.hash.replace(/^#/, "") || "/";
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const onChange = () => setRoute(read());
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

export function navigate(route: string): void {
  window.location.hash = route;
}
