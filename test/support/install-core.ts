/** Imported first by test helpers: installs the registration seam before any trigger module loads. */
import { installFunctionsCore } from '../../tools/runtime/functions-core';

installFunctionsCore();
