#!/bin/sh
# Install the Debian packages listed in the given files (build, test).
# Safe to run again: apt-get skips what is already there.
set -eu
here=$(dirname "$0")
packages=""
for list in "$@"; do
	packages="$packages $(grep -v '^#' "$here/packages-$list.txt" | tr '\n' ' ')"
done
if [ "$(id -u)" -ne 0 ]; then
	echo "install-packages: run as root to install:$packages" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $packages
