/** Imported first by test helpers: installs the registration seam before any trigger module loads. */
import { installFunctionsCore } from '../../packages/functions-local/src/core/functions-core';

installFunctionsCore();
