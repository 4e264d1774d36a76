#!/bin/sh
# Apply the 21-101 migrations in order; each is idempotent.
set -eu
for m in "$(dirname "$0")"/0*.js; do mongosh --quiet "$MONGO_URI" "$m"; done
