// Global setup of the integration project (vitest.config.ts). Its tests spawn the BUILT command line
// (dist/cli/main.js), so dist/ must match the sources. This builds once, before any test starts, and only what
// is missing or older than its sources: `npm run build:lib` when a file under src/ (or a tsconfig, or
// package.json) is newer than dist/cli/main.js, `npm run build:console` when one under console/ is newer than
// dist/console/index.html. CI (.ci/run) builds first, so there it builds nothing; a fresh checkout's
// `npm test` builds both.

import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The newest modification time of the given files and of every file under the given folders. */
function newest(paths: readonly string[]): number {
  let max = 0;
  const visit = (path: string): void => {
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat === undefined) return;
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path)) visit(join(path, entry));
    } else {
      max = Math.max(max, stat.mtimeMs);
    }
  };
  for (const p of paths) visit(join(ROOT, p));
  return max;
}

function builtAt(output: string): number {
  return statSync(join(ROOT, output), { throwIfNoEntry: false })?.mtimeMs ?? 0;
}

const TARGETS = [
  {
    script: "build:lib",
    output: "dist/cli/main.js",
    inputs: ["src", "tsconfig.json", "tsconfig.build.json", "package.json"],
  },
  { script: "build:console", output: "dist/console/index.html", inputs: ["console", "package.json"] },
];

export function setup(): void {
  for (const { script, output, inputs } of TARGETS) {
    const built = builtAt(output);
    if (built !== 0 && built >= newest(inputs)) continue;
    const why = built === 0 ? `${output} is missing` : `${output} is older than ${inputs.join(", ")}`;
    console.log(`test setup: ${why}; running npm run ${script}`);
    execFileSync("npm", ["run", script, "--silent"], { cwd: ROOT, stdio: "inherit" });
  }
}
