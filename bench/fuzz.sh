#!/bin/sh
# bench/fuzz.sh [SECONDS]: a long libFuzzer run over the server's request
# parsers (tests/fuzz/fuzz-request.c), default 600 s; prints how many
# inputs were tried, keeps the grown corpus in build/fuzz-long/corpus.
set -eu
cd "$(dirname "$0")/.."
exec tests/fuzz/run-fuzz.sh "$(pwd)" "$(pwd)/build/fuzz-long" "${1:-600}"
