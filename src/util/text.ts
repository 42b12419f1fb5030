// Bounded text for stored errors and messages. Importable from every layer: it depends on nothing.

export const ERROR_TEXT_LIMIT_BYTES = 8 * 1024;

/** Cuts `text` to at most `maxBytes` UTF-8 bytes on a character boundary, ending in `…` when cut. */
export function cutText(text: string, maxBytes = ERROR_TEXT_LIMIT_BYTES): string {
  if (Buffer.byteLength(text, "utf8") <= maxBytes) return text;
  const ellipsis = "…";
  const budget = maxBytes - Buffer.byteLength(ellipsis, "utf8");
  let bytes = 0;
  let end = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch, "utf8");
    if (bytes + size > budget) break;
    bytes += size;
    end += ch.length;
  }
  return text.slice(0, end) + ellipsis;
}

/** One line: whitespace runs (newlines included) collapsed to a space. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}
