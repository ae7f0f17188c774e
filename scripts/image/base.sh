#!/usr/bin/env bash
# Makes a local stand-in for the Dockerfile's default base (node:<version>-bookworm-slim) where
# no image registry is reachable (CI): Debian 12 "bookworm" from Debian's own packages
# (debootstrap --variant=minbase) plus the Node binary and npm this project already installs,
# laid out as the official Node image lays them out (/usr/local/bin/node,
# /usr/local/lib/node_modules/npm, /usr/local/bin/npm and npx), so the Dockerfile's stages run
# unchanged on either base. Imported as the image named by PORTCULLIS_BASE_IMAGE.
#
# Cached: the image itself (skipped when the engine already has it) and the root filesystem
# tarball in $PORTCULLIS_IMAGE_CACHE (default .cache/image; git-ignored), so a second run on the
# same machine does not debootstrap again. A clean CI machine pays for debootstrap once.
# Needs: root, debootstrap, a reachable Debian mirror, a Docker engine (DOCKER_HOST).
set -euo pipefail
cd "$(dirname "$0")/../.."

node_version="$(node_modules/.bin/node -p process.versions.node)"
base_image="${PORTCULLIS_BASE_IMAGE:-portcullis-base:node${node_version}-bookworm}"
cache="${PORTCULLIS_IMAGE_CACHE:-.cache/image}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
tarball="$cache/bookworm-minbase-node${node_version}.tar"

if docker image inspect "$base_image" >/dev/null 2>&1; then
  echo "image-base: $base_image already present"
  exit 0
fi

if [ ! -s "$tarball" ]; then
  command -v debootstrap >/dev/null || { echo "image-base: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
  npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
  [ -f "$npm_dir/package.json" ] || { echo "image-base: cannot find npm's package directory" >&2; exit 1; }
  mkdir -p "$cache"
  rootfs="$(mktemp -d /tmp/portcullis-base-XXXXXX)"
  trap 'rm -rf "$rootfs"' EXIT
  started=$SECONDS
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1 \
    || { tail -20 "$cache/debootstrap.log" >&2; exit 1; }
  # What a slim image leaves out: package lists, caches, docs.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
         "$rootfs"/usr/share/doc "$rootfs"/usr/share/man "$rootfs"/usr/share/info "$rootfs"/usr/share/locale
  install -D -m 0755 node_modules/node/bin/node "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/usr/local/lib/node_modules"
  cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  # mktemp made the directory 0700: as the image's / it would lock every non-root uid out.
  chmod 0755 "$rootfs"
  tar -C "$rootfs" --numeric-owner -cf "$tarball.partial" .
  mv "$tarball.partial" "$tarball"
  echo "image-base: root filesystem made in $((SECONDS - started)) s ($(du -h "$tarball" | cut -f1))"
fi

docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["node"]' "$tarball" "$base_image" >/dev/null
echo "image-base: imported $base_image"
