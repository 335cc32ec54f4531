#!/usr/bin/env bash
# Build the one-folder PyInstaller bundle of Clinic Desk and print where it is.
# Usage: installer/build-bundle.sh [DIST_DIR] [WORK_DIR]   (defaults: dist/ and build/pyinstaller/)
# The bundle lands in DIST_DIR/clinic-desk/; run DIST_DIR/clinic-desk/clinic-desk --self-test.
set -euo pipefail

installer_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(dirname "$installer_dir")"
dist_dir="${1:-$repo_root/dist}"
work_dir="${2:-$repo_root/build/pyinstaller}"
python="${PYTHON:-$repo_root/.venv/bin/python}"

if ! "$python" -c 'import PyInstaller' 2>/dev/null; then
    echo "error: PyInstaller is not installed for $python (pip install -e '.[dev]')" >&2
    exit 1
fi
mkdir -p "$dist_dir" "$work_dir"
"$python" -m PyInstaller --noconfirm --log-level WARN \
    --distpath "$dist_dir" --workpath "$work_dir" "$installer_dir/clinic-desk.spec"
printf '%s\n' "$dist_dir/clinic-desk"
