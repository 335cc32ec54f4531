#!/usr/bin/env bash
# Build, sign, notarize and package Clinic Desk for macOS: dist/Clinic Desk.app -> ClinicDesk.dmg.
# Runs on macOS only (PyInstaller, codesign, notarytool, stapler, hdiutil).
#
# Usage: installer/macos/build-dmg.sh [--skip-notarize] [OUT_DIR]      (default OUT_DIR: dist/)
# Environment:
#   MACOS_CODESIGN_IDENTITY   "Developer ID Application: ... (TEAMID)" in the keychain (required;
#                             "-" signs ad hoc for a local try, and implies --skip-notarize)
#   NOTARY_KEYCHAIN_PROFILE   a `xcrun notarytool store-credentials` profile, or else all of
#   APPLE_ID, APPLE_TEAM_ID, APPLE_APP_SPECIFIC_PASSWORD
#   PYTHON                    the Python with the project and PyInstaller (default: .venv/bin/python)
set -euo pipefail

installer_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo_root="$(dirname "$installer_dir")"
python="${PYTHON:-$repo_root/.venv/bin/python}"
entitlements="$installer_dir/macos/entitlements.plist"
app_name="Clinic Desk.app"
volume_name="Clinic Desk"

notarize=1
if [[ "${1:-}" == "--skip-notarize" ]]; then
    notarize=0
    shift
fi
out_dir="${1:-$repo_root/dist}"

die() { printf 'error: %s\n' "$*" >&2; exit 1; }
say() { printf '==> %s\n' "$*" >&2; }

[[ "$(uname -s)" == "Darwin" ]] || die "this script builds the DMG on macOS only"
identity="${MACOS_CODESIGN_IDENTITY:-}"
[[ -n "$identity" ]] || die "set MACOS_CODESIGN_IDENTITY (or '-' to sign ad hoc for a local try)"
if [[ "$identity" == "-" ]]; then
    notarize=0
fi
for tool in codesign hdiutil xcrun; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found (install the Xcode command line tools)"
done

version="$("$python" -c 'import sys; sys.path.insert(0, sys.argv[1]); import bundle_metadata as m
print(m.project_version())' "$installer_dir")"
dmg="$out_dir/ClinicDesk-$version.dmg"
work_dir="$(mktemp -d)"
trap 'rm -rf "$work_dir"' EXIT

say "building $app_name $version with PyInstaller"
"$python" -m PyInstaller --noconfirm --log-level WARN \
    --distpath "$work_dir/dist" --workpath "$work_dir/build" "$installer_dir/clinic-desk.spec"
app="$work_dir/dist/$app_name"
[[ -d "$app" ]] || die "PyInstaller did not produce $app"

say "self-test of the unsigned app"
"$app/Contents/MacOS/clinic-desk" --self-test

say "signing (hardened runtime, camera and microphone entitlements)"
# Inside out: every Mach-O library first, then the app with its entitlements.
while IFS= read -r -d '' binary; do
    if file -b "$binary" | grep -q 'Mach-O'; then
        codesign --force --timestamp --options runtime --sign "$identity" "$binary"
    fi
done < <(find "$app/Contents/Frameworks" "$app/Contents/Resources" -type f -print0 2>/dev/null)
codesign --force --timestamp --options runtime --entitlements "$entitlements" \
    --sign "$identity" "$app"
codesign --verify --deep --strict --verbose=2 "$app"

say "self-test of the signed app"
"$app/Contents/MacOS/clinic-desk" --self-test

say "making $dmg"
staging="$work_dir/dmg"
mkdir -p "$staging" "$out_dir"
cp -R "$app" "$staging/"
ln -s /Applications "$staging/Applications"
rm -f "$dmg"
hdiutil create -volname "$volume_name" -srcfolder "$staging" -fs HFS+ -format UDZO -ov "$dmg"
codesign --force --timestamp --sign "$identity" "$dmg"

if [[ $notarize -eq 1 ]]; then
    say "notarizing (this waits for Apple)"
    if [[ -n "${NOTARY_KEYCHAIN_PROFILE:-}" ]]; then
        xcrun notarytool submit "$dmg" --keychain-profile "$NOTARY_KEYCHAIN_PROFILE" --wait
    else
        : "${APPLE_ID:?set APPLE_ID or NOTARY_KEYCHAIN_PROFILE}"
        : "${APPLE_TEAM_ID:?set APPLE_TEAM_ID}"
        : "${APPLE_APP_SPECIFIC_PASSWORD:?set APPLE_APP_SPECIFIC_PASSWORD}"
        xcrun notarytool submit "$dmg" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
            --password "$APPLE_APP_SPECIFIC_PASSWORD" --wait
    fi
    xcrun stapler staple "$dmg"
    xcrun stapler validate "$dmg"
    spctl --assess --type open --context context:primary-signature --verbose "$dmg"
else
    say "not notarized (--skip-notarize or ad hoc identity): Gatekeeper will refuse it elsewhere"
fi
printf '%s\n' "$dmg"
