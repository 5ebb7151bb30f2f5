import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration suites share real database servers; files run in parallel but each
    // suite owns its own schema/database names, so they do not collide.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    allowOnly: !process.env.CI,
    globalSetup: ['test/global-setup.ts'],
  },
});
