import type { D1Migration } from '@cloudflare/vitest-plugin';
import type { Env as WorkerEnv } from '../src/env';
import type * as MainModule from '../src/index';

declare global {
  namespace Cloudflare {
    interface GlobalProps {
      mainModule: typeof MainModule;
    }
    interface Env extends WorkerEnv {
      TEST_MIGRATIONS: D1Migration[];
      /** Test-only: validates the OpenAPI document and checks the generated client types (vitest.workers.config.ts). */
      OPENAPI_CONTRACT: Fetcher;
    }
  }
}
