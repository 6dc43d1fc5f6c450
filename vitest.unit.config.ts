// `npm run test:unit`: the tests of test/unit/, which need no root, no network,
// no build and none of the fixtures the global setup makes, so they run in
// seconds on a clean clone. `npm test` runs them too (vitest.config.ts).

import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    testTimeout: 20_000,
  },
});
