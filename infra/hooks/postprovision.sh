#!/bin/sh
# azd postprovision hook: azd exports the deployment's outputs (AZURE_FUNCTION_APP_NAME,
# COSMOS_ENDPOINT, ...) into this process's environment; the Node script turns them into
# local.settings.json. Identity-based settings only: nothing here reads or writes a key.
set -eu
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
exec node "$here/postprovision.mjs" "$@"
