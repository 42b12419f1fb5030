import { configDefaults, defineConfig } from "vitest/config";

// The pure tests: no database, no build, no browser, no child process, no server. `npm run test:unit` runs only
// these (about 25 s of CPU time); `npm test` runs them and the integration project. A new test file belongs here
// when it needs none of those. They share one module graph per worker (isolate: false, half the CPU time): a
// unit test leaves no global state behind (no vi.mock, no process.env writes).
const UNIT = [
  "test/aggregation/**/*.test.ts",
  "test/bench/quality-math.test.ts",
  "test/cli/progress.test.ts",
  "test/docs/**/*.test.ts",
  "test/executors/{limits,llm-prompt,registry,request,run-attempt,secrets,sim}.test.ts",
  "test/kernel/{reputation,states}.test.ts",
  "test/spec/**/*.test.ts",
  "test/store/{config,migration-files,pg-errors}.test.ts",
  "test/util/**/*.test.ts",
  "test/worker/completions.test.ts",
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      { extends: true, test: { name: "unit", include: UNIT, isolate: false } },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...UNIT],
          // Brings dist/ up to date when it is missing or older than the sources (test/support/build.ts).
          globalSetup: ["test/support/build.ts"],
        },
      },
    ],
  },
});
