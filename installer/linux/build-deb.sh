#!/usr/bin/env bash
# Package the one-folder bundle as a Debian package: /opt/clinic-desk, /usr/bin/clinic-desk,
# a desktop entry and the icon. The machine policy (/etc/clinic-desk/policy.toml) stays IT's:
# the package neither ships nor removes it.
# Usage: installer/linux/build-deb.sh BUNDLE_DIR OUT_DIR   (prints the .deb's path)
set -euo pipefail

linux_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$linux_dir/../.." && pwd)"
bundle="${1:?usage: build-deb.sh BUNDLE_DIR OUT_DIR}"
out_dir="${2:?usage: build-deb.sh BUNDLE_DIR OUT_DIR}"
python="${PYTHON:-$repo_root/.venv/bin/python}"

[[ -x "$bundle/clinic-desk" ]] || { echo "error: $bundle/clinic-desk is not an executable" >&2; exit 1; }
version="$("$python" -c 'import sys; sys.path.insert(0, sys.argv[1]); import bundle_metadata as m
print(m.project_version())' "$repo_root/installer")"
arch="$(dpkg --print-architecture)"

root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
install -d "$root/DEBIAN" "$root/opt" "$root/usr/bin" "$root/usr/share/applications" \
    "$root/usr/share/icons/hicolor/scalable/apps" "$root/usr/share/doc/clinic-desk"
cp -a "$bundle" "$root/opt/clinic-desk"
ln -s ../../opt/clinic-desk/clinic-desk "$root/usr/bin/clinic-desk"
install -m 0644 "$linux_dir/clinic-desk.desktop" "$root/usr/share/applications/clinic-desk.desktop"
install -m 0644 "$repo_root/resources/icons/app-icon.svg" \
    "$root/usr/share/icons/hicolor/scalable/apps/clinic-desk.svg"
printf 'Clinic Desk %s\nLicense: Apache-2.0\n' "$version" >"$root/usr/share/doc/clinic-desk/copyright"

installed_kb="$(du -sk "$root" | cut -f1)"
# The bundle carries its own Python, Qt and FFmpeg; these are the system libraries Qt's xcb
# platform plugin and fontconfig load from the desktop session.
cat >"$root/DEBIAN/control" <<CONTROL
Package: clinic-desk
Version: $version
Architecture: $arch
Maintainer: Clinic Desk <packaging@clinicdesk.invalid>
Installed-Size: $installed_kb
Depends: libc6 (>= 2.31), libgl1, libegl1, libxkbcommon0, libxkbcommon-x11-0, libfontconfig1,
 libdbus-1-3, libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1, libxcb-image0,
 libxcb-render-util0, libxcb-shape0, libxcb-xinerama0, libxcb-randr0
Section: net
Priority: optional
Homepage: https://github.com/clinic-desk/clinic-desk
Description: desktop virtual-clinic manager for hospital staff
 The Clinic Schedule: every appointment of the day with its status, the
 virtual waiting room, and video or phone calls started with one click.
 Check an installation with: clinic-desk --self-test
CONTROL

mkdir -p "$out_dir"
deb="$out_dir/clinic-desk_${version}_${arch}.deb"
# zstd (dpkg >= 1.21.18 reads it): level 9 takes seconds here; a release may set
# DEB_ZSTD_LEVEL=19 (about 13% smaller, two minutes on two cores).
dpkg-deb --root-owner-group -Zzstd -z"${DEB_ZSTD_LEVEL:-9}" --build "$root" "$deb" >/dev/null
printf '%s\n' "$deb"
