#!/bin/sh
# Quick start on a fresh Debian 12 machine, as root: install the build
# packages, build, install under /usr (programs, daemons, man pages, the
# sample configuration into /etc/hikyaku) and start the mail system on the
# compiled-in defaults.
set -eu
cd "$(dirname "$0")/.."
sh tools/install-packages.sh build
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr
cmake --build build-release -j"$(nproc)"
cmake --install build-release
hikyaku set-permissions
hikyaku check
hikyaku start
