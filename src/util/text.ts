// Bounded text for stored errors and messages. Importable from every layer: it depends on nothing.

export const ERROR_TEXT_LIMIT_BYTES = 8 * 1024;

/**
 * Cuts `text` to at most `maxBytes` UTF-8 bytes, the ellipsis `…` (3 bytes) included, ending in `…` when cut,
 * and "" when not even the ellipsis fits. The cut falls between code points: it never splits a multi-byte
 * character or a surrogate pair (a lone surrogate counts 3 bytes, as it encodes to U+FFFD).
 */
export function cutText(text: string, maxBytes = ERROR_TEXT_LIMIT_BYTES): string {
  if (Buffer.byteLength(text, "utf8") <= maxBytes) return text;
  const ellipsis = "…";
  const budget = maxBytes - Buffer.byteLength(ellipsis, "utf8");
  if (budget <= 0) return "";
  let bytes = 0;
  let end = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    const size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + size > budget) break;
    bytes += size;
    end += ch.length;
  }
  return text.slice(0, end) + ellipsis;
}

/** True when a string or an object key anywhere in `value` holds U+0000. Iterative: any depth. */
function hasNul(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === "string") {
      if (v.includes("\u0000")) return true;
    } else if (typeof v === "object" && v !== null) {
      for (const [key, item] of Object.entries(v)) {
        if (key.includes("\u0000")) return true;
        stack.push(item);
      }
    }
  }
  return false;
}

/**
 * JSON data with U+0000 replaced by U+FFFD in every string and object key; `value` itself when it holds none
 * (the common case: nothing is copied).
 */
export function replaceNulDeep<T>(value: T): T {
  if (!hasNul(value)) return value;
  // JSON.stringify writes U+0000 as the escape \u0000; an escaped backslash (\\) is skipped as a pair.
  const json = JSON.stringify(value).replace(/\\(?:\\|u0000)/g, (m) => (m === "\\\\" ? m : "\\ufffd"));
  return JSON.parse(json) as T;
}
