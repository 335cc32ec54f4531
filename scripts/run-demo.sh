#!/usr/bin/env bash
# Start Clinic Desk with demo data: installs what is missing (Debian packages, .venv), then runs.
# Usage: scripts/run-demo.sh [clinic-desk options]. Needs a desktop session; headless:
#   xvfb-run -a scripts/run-demo.sh   or   QT_QPA_PLATFORM=offscreen scripts/run-demo.sh
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

# Fail before installing anything: without a display Qt would only abort later with a cryptic error.
if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" && -z "${QT_QPA_PLATFORM:-}" ]]; then
    die "no display: Clinic Desk needs a desktop session (DISPLAY or WAYLAND_DISPLAY is unset)." \
        "Run it from a terminal on the desktop, or without a screen: xvfb-run -a $0"
fi

ensure_debs "${RUNTIME_DEBS[@]}"
ensure_venv ""

exec "$VENV/bin/clinic-desk" --demo "$@"
