# shellcheck shell=bash
# Shared set-up for scripts/run-demo.sh and scripts/test.sh: Debian packages and the .venv.
# Sourced (not run) by scripts using `set -euo pipefail`; on failure functions exit with a message.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO_ROOT/.venv"
# Written after a successful `pip install`; holds the extras installed ("" or "dev").
VENV_STAMP="$VENV/.clinic-desk-installed"

# What Qt (PySide6 wheels) needs at run time, plus the xcb libraries of a real X11 window.
# "a|b" means either package will do (Ubuntu 24.04 and Debian 13 renamed some libs to *t64).
# shellcheck disable=SC2034  # used by the scripts that source this file
RUNTIME_DEBS=(
    python3-venv
    libgl1 libegl1 libxkbcommon0 libfontconfig1 libdbus-1-3 "libglib2.0-0|libglib2.0-0t64"
    libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
    libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxkbcommon-x11-0 fonts-dejavu-core
)
# Tests also run Qt under a virtual X server; xvfb-run needs xauth. The server tests start a
# throwaway PostgreSQL cluster (initdb/pg_ctl from Debian's postgresql; no service is used).
# The installer tests build the MSI with wixl (its own package), read it with msitools, sign it
# with osslsigncode and a throwaway openssl certificate, and lint the macOS script (shellcheck).
# The patient-page tests drive Debian's chromium through Playwright (its own download is not used).
# The relay call tests start Debian's coturn (turnserver) themselves on loopback; the group-call
# tests start Debian's janus (the SFU) inside a network namespace (iproute2). No service is used.
# shellcheck disable=SC2034
TEST_DEBS=(xvfb xauth postgresql wixl msitools osslsigncode openssl shellcheck chromium coturn janus iproute2 baresip kamailio haproxy)

_APT_UPDATED=0

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Run a command as root: directly when we are root, else through sudo.
as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root to run '$*': run this script as root or install sudo"
    fi
}

# True when one of the alternatives in "a|b" is installed (not just known to dpkg).
deb_installed() {
    local alt
    local -a alts
    IFS='|' read -ra alts <<<"$1"
    for alt in "${alts[@]}"; do
        # grep without -q reads all input: an early exit could SIGPIPE dpkg and, with
        # pipefail, make an installed package look missing.
        if dpkg -s "$alt" 2>/dev/null | grep '^Status: .* ok installed$' >/dev/null; then
            return 0
        fi
    done
    return 1
}

# The first alternative in "a|b" that apt can install (call after apt-get update).
deb_pick() {
    local alt
    local -a alts
    IFS='|' read -ra alts <<<"$1"
    for alt in "${alts[@]}"; do
        if apt-cache show --no-all-versions "$alt" >/dev/null 2>&1; then
            printf '%s\n' "$alt"
            return 0
        fi
    done
    printf '%s\n' "${alts[0]}"  # let apt-get name the problem
}

apt_get() {
    # Wait for a running apt (unattended-upgrades on a fresh machine) instead of failing.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 "$@"
}

# Install the Debian packages that are missing; a no-op (and no apt) when all are present.
ensure_debs() {
    local spec
    local -a missing=() picked=()
    if ! command -v dpkg >/dev/null 2>&1; then
        say "not a Debian/Ubuntu system: make sure the equivalents of these are installed: $*"
        return 0
    fi
    for spec in "$@"; do
        deb_installed "$spec" || missing+=("$spec")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        return 0
    fi

    say "installing Debian packages: ${missing[*]}"
    if [[ $_APT_UPDATED -eq 0 ]]; then
        apt_get update || die "apt-get update failed"
        _APT_UPDATED=1
    fi
    for spec in "${missing[@]}"; do
        picked+=("$(deb_pick "$spec")")
    done
    apt_get install -y --no-install-recommends "${picked[@]}" \
        || die "apt-get install failed for: ${picked[*]}"
}

# Print the first interpreter that is Python >= 3.11 (python3.11 preferred: what CI uses).
find_python() {
    local py
    for py in python3.11 python3; do
        if command -v "$py" >/dev/null 2>&1 \
            && "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$py"
            return 0
        fi
    done
    local found="none"
    command -v python3 >/dev/null 2>&1 && found="$(python3 --version 2>&1)"
    die "Clinic Desk needs Python 3.11 or newer (found: $found). On Debian/Ubuntu:" \
        "sudo apt-get install python3.11 python3.11-venv, then run this script again."
}

# Create .venv when missing and (re)install the project when pyproject.toml or
# constraints.txt changed since the last install. $1: extras to install ("" or "dev").
ensure_venv() {
    local extras="${1:-}" py target installed=""

    if [[ ! -e "$VENV" ]]; then
        py="$(find_python)" || exit 1
        # Debian's python has no ensurepip without pythonX.Y-venv; venv would leave a broken .venv.
        if ! "$py" -c 'import ensurepip' 2>/dev/null; then
            ensure_debs "python$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')-venv"
        fi
        say "creating $VENV with $py ($("$py" --version 2>&1))"
        if ! "$py" -m venv "$VENV"; then
            rm -rf "$VENV"
            die "could not create $VENV"
        fi
    fi
    if ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        die "$VENV is broken or older than Python 3.11: delete it (rm -rf .venv) and run again"
    fi

    if [[ -f "$VENV_STAMP" ]]; then
        installed="$(<"$VENV_STAMP")"
    fi
    if [[ -f "$VENV_STAMP" \
        && ! "$REPO_ROOT/pyproject.toml" -nt "$VENV_STAMP" \
        && ! "$REPO_ROOT/constraints.txt" -nt "$VENV_STAMP" \
        && ( -z "$extras" || "$installed" == "$extras" ) ]]; then
        return 0
    fi

    # A venv that had the dev tools keeps them up to date, so test.sh stays quick afterwards.
    if [[ -z "$extras" ]]; then
        extras="$installed"
    fi
    target="."
    if [[ -n "$extras" ]]; then
        target=".[$extras]"
    fi
    say "installing the project into .venv (pip install -c constraints.txt -e '$target')"
    (cd "$REPO_ROOT" && "$VENV/bin/python" -m pip install --disable-pip-version-check \
        -c constraints.txt -e "$target") || die "pip install failed (see above)"
    printf '%s\n' "$extras" >"$VENV_STAMP"
}

# axe-core (pinned in tests/a11y/package-lock.json) for the patient pages' accessibility checks:
# `npm ci` from the registry at set-up time; the tests then load it from disk, offline.
AXE_DIR="$REPO_ROOT/tests/a11y"
ensure_axe() {
    local wanted installed=""
    wanted="$(sed -n 's/.*"axe-core": "\(.*\)".*/\1/p' "$AXE_DIR/package.json")"
    if [[ -f "$AXE_DIR/node_modules/axe-core/package.json" ]]; then
        installed="$(sed -n 's/^  "version": "\(.*\)".*/\1/p' "$AXE_DIR/node_modules/axe-core/package.json")"
    fi
    if [[ -n "$wanted" && "$installed" == "$wanted" ]]; then
        return 0
    fi
    if ! command -v npm >/dev/null 2>&1; then
        ensure_debs npm
    fi
    say "installing axe-core $wanted (npm ci in tests/a11y)"
    (cd "$AXE_DIR" && npm ci --no-audit --no-fund --ignore-scripts) \
        || die "npm ci failed in tests/a11y (axe-core for the patient-page checks)"
}
