import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // End-to-end tests start real SIPp and real sockets; give them room, but
    // never use time as an assertion (bench/ measures performance).
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores on the build machines: SIPp-driven files must not starve each other.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
