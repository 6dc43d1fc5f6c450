import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    // Two cores: the real-package tests spawn dpkg-deb and deblayer per package.
    maxWorkers: 2,
  },
});
