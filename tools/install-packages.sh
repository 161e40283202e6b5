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
# The test peers (postfix, dovecot, dnsmasq) are started by the tests on
# loopback ports; their packages must not start system services, which
# would take port 25 or 53 from a running hikyaku or fail on it. Debian's
# policy-rc.d says no to every start for the length of the install.
policy=/usr/sbin/policy-rc.d
made_policy=no
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# hikyaku tools/install-packages.sh: no service starts while installing\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	made_policy=yes
	trap 'rm -f "$policy"' EXIT
fi
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $packages
if [ "$made_policy" = yes ]; then
	rm -f "$policy"
	trap - EXIT
fi
