#!/usr/bin/env bash
# `npm run image`: builds the tool runner image (containers/runner/Dockerfile) from the
# repository root, tagged $PORTCULLIS_RUNNER_IMAGE (default portcullis-runner). Extra arguments go
# to `docker build`, e.g. `npm run image -- --build-arg BASE_IMAGE=portcullis-base:…` (the local
# base scripts/image/base.sh makes where no registry is reachable) or `--network host`.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v docker >/dev/null 2>&1; then
  echo "image: no docker command. Building the runner image needs a Docker engine: install Docker (Debian: apt-get install docker.io) and start it, or point DOCKER_HOST at a running engine." >&2
  exit 1
fi
if ! docker info >/dev/null 2>&1; then
  echo "image: no Docker engine reachable at ${DOCKER_HOST:-the default socket (/var/run/docker.sock)}. Start one (e.g. systemctl start docker, or dockerd; docs/sandbox.md \"The container image\") or set DOCKER_HOST." >&2
  exit 1
fi

image="${PORTCULLIS_RUNNER_IMAGE:-portcullis-runner}"
# A builder whose egress is TLS-intercepted (some CI machines) needs that proxy's CA in the
# build stage only (the Dockerfile's BUILD_EXTRA_CA_PEM).
extra=()
if [ -n "${PORTCULLIS_BUILD_CA_FILE:-}" ]; then
  extra+=(--build-arg "BUILD_EXTRA_CA_PEM=$(cat "$PORTCULLIS_BUILD_CA_FILE")")
fi
started=$SECONDS
docker build -f containers/runner/Dockerfile -t "$image" "${extra[@]}" "$@" .
size=$(docker image inspect --format '{{.Size}}' "$image")
echo "image: built $image in $((SECONDS - started)) s, $((size / 1024 / 1024)) MiB"
