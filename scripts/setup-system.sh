#!/bin/sh
# `npm run setup:system`: installs what `npm test` needs from the system, on Debian or Ubuntu.
# bubblewrap runs tool calls in the local sandbox (the runner's tests run real bwrap); curl
# runs inside that sandbox in the egress tests; openssl makes their test certificates.
# The tests also need Linux and root (the runner drops each call to an unprivileged uid).
set -eu
if [ "$(uname -s)" != Linux ]; then
  echo "setup:system: the local sandbox (bubblewrap) needs Linux; this is $(uname -s)." >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "setup:system: run as root (e.g. sudo npm run setup:system): it installs Debian packages." >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup:system: no apt-get here; install bubblewrap, curl, openssl and chromium with this system's package manager." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq bubblewrap curl openssl chromium >/dev/null
echo "setup:system: bubblewrap, curl and openssl are installed."
