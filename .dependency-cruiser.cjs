// The import-boundary check of `npm run lint` (dependency-cruiser). Its rules are not written here: they are
// read from the layer table of docs/architecture.md ("## Layers"), so the table and the check cannot drift
// apart. Each row names a layer, its folder (or file) under src/ and the layers it may import; an import from
// one layer into a layer its row does not list is an error, and "x (types only)" allows only `import type` of x.
// Every folder and top-level file under src/ must have a row, so a new one cannot slip past the check.

const { readdirSync, readFileSync, statSync } = require("node:fs");
const { join } = require("node:path");

const DOC = "docs/architecture.md";

function fail(message) {
  throw new Error(`${DOC} "## Layers": ${message}`);
}

/** [{ name, folder, imports: [{ name, typesOnly }] }] from the first table under "## Layers". */
function readLayers() {
  const text = readFileSync(join(__dirname, DOC), "utf8");
  const section = text.split(/^## Layers[ \t]*$/m)[1]?.split(/^## /m)[0];
  if (section === undefined) fail("no such section");
  const lines = section.split("\n");
  const first = lines.findIndex((l) => l.startsWith("|"));
  if (first < 0) fail("no table");
  const rows = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith("|")) break;
    const [name, folder, mayImport] = line
      .split("|")
      .slice(1, -1)
      .map((cell) => cell.trim());
    const path = /^`(src\/[^`]+)`$/.exec(folder ?? "")?.[1];
    if (!name || path === undefined) fail(`cannot read the row ${JSON.stringify(line)}`);
    const imports =
      mayImport === "—"
        ? []
        : mayImport.split(",").map((item) => {
            const m = /^([a-z]+)( \(types only\))?$/.exec(item.trim());
            if (!m) fail(`layer ${name}: cannot read ${JSON.stringify(item.trim())} in "may import"`);
            return { name: m[1], typesOnly: m[2] !== undefined };
          });
    rows.push({ name, folder: path, imports });
  }
  const names = new Set(rows.map((r) => r.name));
  for (const row of rows) {
    for (const i of row.imports) {
      if (!names.has(i.name)) fail(`layer ${row.name} may import "${i.name}", which has no row`);
    }
  }
  return rows;
}

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** A folder row (`src/cli/`) covers everything under it; a file row (`src/index.ts`) that file only. */
const pathOf = (layer) =>
  layer.folder.endsWith("/") ? `^${escapeRegExp(layer.folder)}` : `^${escapeRegExp(layer.folder)}$`;

const layers = readLayers();
const byName = new Map(layers.map((l) => [l.name, l]));

// Every entry of src/ belongs to a layer.
const covered = new Set(layers.map((l) => l.folder));
for (const entry of readdirSync(join(__dirname, "src"))) {
  const key = statSync(join(__dirname, "src", entry)).isDirectory() ? `src/${entry}/` : `src/${entry}`;
  if (!covered.has(key)) fail(`${key} has no row: add one (its layer and what it may import)`);
}

const forbidden = layers.flatMap((layer) => {
  const full = layer.imports.filter((i) => !i.typesOnly).map((i) => byName.get(i.name));
  const typesOnly = layer.imports.filter((i) => i.typesOnly).map((i) => byName.get(i.name));
  const allowed = [layer, ...full, ...typesOnly].map(pathOf);
  const listed =
    layer.imports.map((i) => i.name + (i.typesOnly ? " (types only)" : "")).join(", ") || "nothing";
  return [
    {
      name: `layer-${layer.name}`,
      comment: `${layer.name} (${layer.folder}) may import only: ${listed} (${DOC}, "## Layers")`,
      severity: "error",
      from: { path: pathOf(layer) },
      to: { path: "^src/", pathNot: allowed },
    },
    ...typesOnly.map((target) => ({
      name: `layer-${layer.name}-${target.name}-types-only`,
      comment: `${layer.name} may import only types from ${target.name} (${DOC}, "## Layers")`,
      severity: "error",
      from: { path: pathOf(layer) },
      to: { path: pathOf(target), dependencyTypesNot: ["type-only"] },
    })),
  ];
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden,
  options: {
    includeOnly: "^src/",
    // `import type` counts: a layer that needs another's types depends on it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
