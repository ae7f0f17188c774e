#!/usr/bin/env bash
# `npm run test:image` (part of `npm test`): the runner image's tests
# (containers/runner/test/image/), against the image built from this checkout.
#  1. A Docker engine: the one DOCKER_HOST (or the default socket) names if it answers;
#     otherwise, as root with dockerd installed, a private engine started here with the flags
#     that work without a bridge or iptables (vfs storage, data in $PORTCULLIS_IMAGE_CACHE/docker)
#     and stopped on exit; otherwise fail, saying what is missing. Never skipped.
#  2. The image: `npm run image`, on BASE_IMAGE when set, else on the default (registry) base when
#     the engine has it or can pull it, else on the local base scripts/image/base.sh makes from
#     Debian's packages (cached). Docker's layer cache makes an unchanged rebuild quick.
#  3. vitest with vitest.image.config.ts.
set -euo pipefail
cd "$(dirname "$0")/../.."
cache="$(realpath -m "${PORTCULLIS_IMAGE_CACHE:-.cache/image}")"
export PORTCULLIS_IMAGE_CACHE="$cache"
# The build log and CA file go here even when the engine already holds the base (base.sh skipped).
mkdir -p "$cache"

engine_pid=""
stop_engine() {
  if [ -n "$engine_pid" ]; then
    kill "$engine_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$engine_pid" 2>/dev/null || break; sleep 0.2; done
  fi
}
trap stop_engine EXIT

if ! docker info >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ] || ! command -v dockerd >/dev/null 2>&1; then
    echo "test:image: no Docker engine reachable (DOCKER_HOST=${DOCKER_HOST:-unset}) and none can be started here (needs root and dockerd: apt-get install docker.io). The image tests cannot run without one." >&2
    exit 1
  fi
  state="$cache/docker"
  mkdir -p "$state/data" "$state/exec"
  export DOCKER_HOST="unix://$state/docker.sock"
  echo "test:image: starting a private Docker engine at $DOCKER_HOST (log: $state/dockerd.log)"
  dockerd --storage-driver=vfs --iptables=false --ip6tables=false --bridge=none \
    --host "$DOCKER_HOST" --data-root "$state/data" --exec-root "$state/exec" --pidfile "$state/dockerd.pid" \
    >"$state/dockerd.log" 2>&1 &
  engine_pid=$!
  for _ in $(seq 1 150); do docker info >/dev/null 2>&1 && break; kill -0 "$engine_pid" 2>/dev/null || break; sleep 0.2; done
  docker info >/dev/null 2>&1 || { tail -20 "$state/dockerd.log" >&2; echo "test:image: the Docker engine did not start" >&2; exit 1; }
fi

args=()
if [ -z "${BASE_IMAGE:-}" ]; then
  default_base="$(sed -n 's/^ARG BASE_IMAGE=//p' containers/runner/Dockerfile)"
  if ! docker image inspect "$default_base" >/dev/null 2>&1 && ! docker pull -q "$default_base" >/dev/null 2>&1; then
    echo "test:image: $default_base cannot be pulled here; building on a local base from Debian's packages (scripts/image/base.sh)"
    node_version="$(node_modules/.bin/node -p process.versions.node)"
    export PORTCULLIS_BASE_IMAGE="portcullis-base:node${node_version}-bookworm"
    bash scripts/image/base.sh
    BASE_IMAGE="$PORTCULLIS_BASE_IMAGE"
  fi
fi
if [ -n "${BASE_IMAGE:-}" ]; then args+=(--build-arg "BASE_IMAGE=$BASE_IMAGE"); fi
# The private engine has no bridge: the build's RUN steps reach the registries through the host's network.
if [ -n "$engine_pid" ] || [ -n "${PORTCULLIS_BUILD_NETWORK_HOST:-}" ]; then args+=(--network host); fi
# CAs added to this machine (Debian keeps them in /usr/local/share/ca-certificates; a machine
# behind a TLS-intercepting proxy has that proxy's there) are trusted by the build stage too.
if [ -z "${PORTCULLIS_BUILD_CA_FILE:-}" ] && compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  cat /usr/local/share/ca-certificates/*.crt >"$cache/build-ca.pem"
  export PORTCULLIS_BUILD_CA_FILE="$cache/build-ca.pem"
fi
# Quiet legacy-builder output unless it fails.
if ! DOCKER_BUILDKIT="${DOCKER_BUILDKIT:-0}" bash scripts/image/build.sh "${args[@]}" >"$cache/build.log" 2>&1; then
  tail -40 "$cache/build.log" >&2
  exit 1
fi
tail -1 "$cache/build.log"

node_modules/.bin/vitest run --config vitest.image.config.ts "$@"
