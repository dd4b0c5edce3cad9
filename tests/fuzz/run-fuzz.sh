#!/bin/sh
# run-fuzz.sh SOURCE_ROOT WORK_DIR SECONDS: builds fuzz-request.c with
# clang's libFuzzer and AddressSanitizer, then fuzzes from a copy of the
# seed corpus for SECONDS, and prints how many inputs it tried. Exits 77
# (skipped) when clang or its libFuzzer runtime is missing, non-zero when
# the fuzzer finds a crash (the input is left in WORK_DIR).
set -eu
src=$1
work=$2
seconds=$3
command -v clang >/dev/null 2>&1 || { echo "clang is missing (tools/deps)"; exit 77; }
mkdir -p "$work/corpus"
flags=$(pkg-config --cflags --libs glib-2.0 json-glib-1.0)
# shellcheck disable=SC2086
if ! clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$src/src/server" -o "$work/fuzz-request" "$src/tests/fuzz/fuzz-request.c" \
    "$src/src/server/rr-json-guard.c" "$src/src/server/rr-access.c" $flags \
    2>"$work/build.log"; then
  if grep -q "fuzzer" "$work/build.log"; then
    echo "clang has no libFuzzer runtime (libfuzzer-14-dev, libclang-rt-14-dev)"
    cat "$work/build.log"
    exit 77
  fi
  cat "$work/build.log"
  exit 1
fi
cp "$src"/tests/fuzz/corpus/* "$work/corpus/"
cd "$work"
set +e
./fuzz-request -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 \
  -artifact_prefix="$work/" corpus >fuzz.log 2>&1
rc=$?
set -e
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' fuzz.log)
echo "fuzz-request: ${runs:-0} inputs tried in ${seconds} s, exit $rc"
if [ "$rc" -ne 0 ]; then
  tail -n 60 fuzz.log
fi
exit "$rc"
