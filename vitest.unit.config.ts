import { defineConfig } from 'vitest/config';

// The fast tests: no fixtures, no global setup (`npx vitest run --config vitest.unit.config.ts`).
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
