#!/usr/bin/env bash
# The whole test command: installs what is missing, then ruff, mypy and pytest (headless Qt).
# Usage: scripts/test.sh [pytest arguments], e.g. scripts/test.sh -k schedule -x
# Screenshots the tests take land in test-artifacts/screenshots/.
set -euo pipefail

# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

ensure_debs "${RUNTIME_DEBS[@]}" "${TEST_DEBS[@]}"
ensure_venv dev
ensure_axe

export CLINIC_DESK_SCREENSHOTS="$REPO_ROOT/test-artifacts/screenshots"
mkdir -p "$CLINIC_DESK_SCREENSHOTS"

# Every step runs even when an earlier one fails, so one run shows all the problems.
failed=()
step() {
    local name="$1" rc=0
    shift
    say "$name"
    "$@" || rc=$?
    if [[ $rc -ne 0 ]]; then
        failed+=("$name (exit $rc)")
    fi
}

step ruff "$VENV/bin/ruff" check .
step mypy "$VENV/bin/mypy"
step pytest env QT_QPA_PLATFORM=offscreen "$VENV/bin/pytest" "$@"

if [[ ${#failed[@]} -gt 0 ]]; then
    printf 'FAILED: %s\n' "${failed[@]}" >&2
    exit 1
fi
say "all passed: ruff, mypy, pytest"
