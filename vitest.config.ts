import { defineConfig } from "vitest/config"

export default defineConfig({
  resolve: {
    conditions: ["@tmdb-yearly/source"]
  },
  ssr: {
    resolve: {
      conditions: ["@tmdb-yearly/source"]
    }
  },
  test: {
    include: ["packages/*/test/**/*.test.ts", "examples/**/*.test.ts"],
    globalSetup: ["testing/postgresGlobalSetup.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    reporters: ["default", "json"],
    outputFile: { json: "test-results/vitest.json" }
  }
})
