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
# sendmail, mailq and newaliases belong to whichever MTA package is
# installed (postfix, exim4). Divert them, as Debian wants a replacement
# to, so a later install or upgrade of such a package puts its own copy
# beside ours (.distrib) instead of over it.
for program in /usr/sbin/sendmail /usr/bin/mailq /usr/bin/newaliases; do
	if ! dpkg-divert --list "$program" | grep -q .; then
		dpkg-divert --local --rename --divert "$program.distrib" --add "$program"
	fi
done
cmake --install build-release
hikyaku set-permissions
hikyaku check
hikyaku start
