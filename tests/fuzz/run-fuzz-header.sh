#!/bin/sh
# run-fuzz-header.sh SOURCE_ROOT BUILD_ROOT WORK_DIR SECONDS: fuzzes the raw
# QC header reader (rr-dicom-header-raw.c, which parses uploaded bytes
# without dcmtk) with clang's libFuzzer and AddressSanitizer. The reader
# and the target are built here with clang; the rest of the dicom layer
# comes from the build's own archives. Seeds are phantom files (CT, MR,
# PET) and pydicom's test files, cut to their first 16 KiB, the most the reader
# looks at. Exits 77
# when clang or its libFuzzer runtime is missing, non-zero when the fuzzer
# finds a crash (the input is left in WORK_DIR).
set -eu
src=$1
build=$2
work=$3
seconds=$4
command -v clang >/dev/null 2>&1 || { echo "clang is missing (tools/deps)"; exit 77; }
mkdir -p "$work/corpus" "$work/phantom"
flags=$(pkg-config --cflags --libs glib-2.0 gio-2.0 json-glib-1.0)
# shellcheck disable=SC2086
if ! clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$src/src/dicom" -I"$src/src/core" -I"$build/src/core" -o "$work/fuzz-header" \
    "$src/tests/fuzz/fuzz-header.c" "$src/src/dicom/rr-dicom-header-raw.c" \
    "$build/src/dicom/librr-dicom.a" "$build/src/core/librr-core.a" \
    -lcmr -ldcmsr -ldcmjpeg -lijg8 -lijg12 -lijg16 -ldcmimage -ldcmimgle -ldcmdata \
    -loflog -lofstd -lz -lopenjp2 -lcharls $flags -lstdc++ -lm 2>"$work/build.log"; then
  if grep -q "fuzzer" "$work/build.log"; then
    echo "clang has no libFuzzer runtime (libfuzzer-14-dev, libclang-rt-14-dev)"
    cat "$work/build.log"
    exit 77
  fi
  cat "$work/build.log"
  exit 1
fi
n=0
for kind in ct mr pet; do
  "$build/src/phantom/readroom-phantom" --kind=$kind --size=16 --slices=1 \
    "$work/phantom/$kind" >/dev/null
  for f in $(find "$work/phantom/$kind" -type f | head -n 2); do
    n=$((n + 1))
    head -c 16384 "$f" >"$work/corpus/seed-$n"
  done
done
# pydicom's test files (python3-pydicom, public test data), when present:
# sequences, character sets and transfer syntaxes the phantoms lack.
pyd=/usr/lib/python3/dist-packages/pydicom/data/test_files
if [ -d "$pyd" ]; then
  for f in "$pyd"/*.dcm; do
    n=$((n + 1))
    head -c 16384 "$f" >"$work/corpus/seed-$n"
  done
fi
cd "$work"
set +e
./fuzz-header -max_total_time="$seconds" -max_len=16384 -print_final_stats=1 \
  -artifact_prefix="$work/" corpus >fuzz.log 2>&1
rc=$?
set -e
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' fuzz.log)
echo "fuzz-header: ${runs:-0} inputs tried in ${seconds} s from $n seeds, exit $rc"
if [ "$rc" -ne 0 ]; then
  tail -n 60 fuzz.log
fi
exit "$rc"
