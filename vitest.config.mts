import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Tests run the workspace package from its TypeScript sources, as the type-checker reads it
  // (its exports' "source" condition); `npm run build` is for node, not for the tests.
  resolve: {
    alias: [
      {
        find: /^@fabrikam\/functions-local$/,
        replacement: fileURLToPath(new URL('./packages/functions-local/src/index.ts', import.meta.url)),
      },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Integration tests share one Azurite and one Cosmos server; files run in parallel
    // on separate databases and containers named per test file.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    // Test files stand where the local runtime stands: the only caller of the app, so the
    // principal headers they send are believed (functions/config.ts PrincipalTrust).
    env: { LocalRuntime: 'true' },
  },
});
