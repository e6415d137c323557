#!/bin/sh
# Re-records Apollo composition's verdict (apollo.json, supergraph.graphql) for
# every case of the composition corpus. NOT run by the test suite or CI: it needs
# Node and the @apollo/composition npm packages installed outside the repository
# (in $WEFT_ORACLE_DIR, default /work/oracle; see README.md).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
exec node "$here/record.mjs" "$@"
