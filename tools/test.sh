#!/bin/sh
# Run every test: install what the tests need (as root), then build and
# run the whole suite twice, once as a normal build with gcc and once with
# clang under AddressSanitizer and UndefinedBehaviorSanitizer, where the
# libFuzzer targets also run for a bounded time. Exits non-zero on any
# failure. ctest prints its summary line for each build.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" -eq 0 ]; then
	sh tools/install-packages.sh build test
fi
jobs=$(nproc)
status=0

run_suite() {
	name=$1
	shift
	echo "=== $name build"
	cmake -S . -B "build-test-$name" "$@" >/dev/null
	cmake --build "build-test-$name" -j"$jobs"
	(cd "build-test-$name" && ctest -j"$jobs" --output-on-failure --timeout 600) || status=1
}

run_suite normal -DCMAKE_BUILD_TYPE=RelWithDebInfo
run_suite sanitize -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DHIKYAKU_SANITIZE=ON -DHIKYAKU_FUZZ=ON
exit $status
