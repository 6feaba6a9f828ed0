import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Training tests are CPU-heavy; two workers match the project's 2-core machines.
    pool: 'forks',
    maxWorkers: 2,
  },
});
