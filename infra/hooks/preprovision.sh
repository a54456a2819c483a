#!/bin/sh
# azd preprovision hook: makes sure AUTH_CLIENT_ID names the API's Entra ID app registration
# (creating it with `az ad app create` when absent); stops the deployment otherwise.
set -eu
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
exec node "$here/preprovision.mjs" "$@"
