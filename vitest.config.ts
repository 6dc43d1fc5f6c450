import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The unit tests of test/unit/ too (alone: npm run test:unit), so that CI's
    // npm test runs them and counts them.
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    // Two cores: the real-package tests spawn dpkg-deb and deblayer per package.
    maxWorkers: 2,
  },
});
