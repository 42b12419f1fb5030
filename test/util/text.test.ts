import { describe, expect, it } from "vitest";
import { cutText, ERROR_TEXT_LIMIT_BYTES } from "../../src/util/text.js";

describe("cutText", () => {
  it("leaves short text alone", () => {
    expect(cutText("hello", 10)).toBe("hello");
    expect(cutText("a".repeat(8192))).toBe("a".repeat(8192));
  });

  it("cuts to the byte limit, ellipsis included", () => {
    const cut = cutText("a".repeat(20), 10);
    expect(cut).toBe(`${"a".repeat(7)}…`);
    expect(Buffer.byteLength(cut)).toBe(10);
    expect(Buffer.byteLength(cutText("x".repeat(10_000)))).toBe(8192);
  });

  it("never splits a UTF-8 character", () => {
    // "é" is 2 bytes, "😀" 4: every cut point must land between characters.
    for (const unit of ["é", "😀", "日"]) {
      for (let max = 4; max < 20; max++) {
        const cut = cutText(unit.repeat(20), max);
        expect(cut.endsWith("…")).toBe(true);
        expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(max);
        expect(cut).not.toContain("\uFFFD");
        expect(cut.slice(0, -1)).toBe(unit.repeat([...cut.slice(0, -1)].length));
      }
    }
  });

  it("returns nothing when not even the ellipsis fits", () => {
    expect(cutText("abcdef", 2)).toBe("");
  });
});

describe("cutText on the edges", () => {
  it("counts a lone surrogate as the 3 bytes of U+FFFD and keeps it", () => {
    expect(cutText("a\uD800b", 5)).toBe("a\uD800b");
    expect(cutText("a\uD800bc", 5)).toBe("a…");
  });

  it("never splits a surrogate pair at the budget's edge", () => {
    // 7 bytes leave 4 after the ellipsis: "a" (1) + "😀" (4) does not fit, so the cut falls before the pair.
    expect(cutText("a😀bcd", 7)).toBe("a…");
    expect(cutText("a😀bcde", 8)).toBe("a😀…");
  });

  it("cuts to the stated limit by default (8 KiB)", () => {
    expect(ERROR_TEXT_LIMIT_BYTES).toBe(8192);
    expect(Buffer.byteLength(cutText("日".repeat(5000)))).toBeLessThanOrEqual(8192);
  });
});
