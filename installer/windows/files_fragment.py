"""Write the WiX fragment that lists every file of the bundle folder (ComponentGroup BundleFiles).

One component per file, with ids and GUIDs derived from the file's path in the bundle, so the
same file keeps its component across versions (what MSI upgrades rely on). Usage:
    python installer/windows/files_fragment.py BUNDLE_DIR OUT.wxs --main-exe clinic-desk.exe
"""

import argparse
import hashlib
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from xml.sax.saxutils import quoteattr

#: Fixed namespace for the components' GUIDs: never change it, or upgrades break.
COMPONENT_NAMESPACE = uuid.UUID("3d0f6a8e-5c2b-4f1e-9a7d-2b6c8e1f4a93")
WIX_NAMESPACE = "http://schemas.microsoft.com/wix/2006/wi"
#: The main executable's File id, which the product's shortcut may refer to.
MAIN_EXE_ID = "ClinicDeskExe"
INSTALL_DIR_ID = "INSTALLDIR"
GROUP_ID = "BundleFiles"


def _id(prefix: str, relative: PurePosixPath) -> str:
    # MSI identifiers: at most 72 characters, letters, digits, "_" and "."; never a path.
    return f"{prefix}_{hashlib.sha1(relative.as_posix().encode()).hexdigest()[:24]}"


def component_guid(relative: PurePosixPath) -> str:
    return str(uuid.uuid5(COMPONENT_NAMESPACE, relative.as_posix().lower())).upper()


@dataclass
class _Folder:
    relative: PurePosixPath
    files: list[PurePosixPath] = field(default_factory=list)
    folders: dict[str, "_Folder"] = field(default_factory=dict)


def _tree(bundle: Path) -> tuple[_Folder, int]:
    root = _Folder(PurePosixPath("."))
    count = 0
    for path in sorted(bundle.rglob("*")):
        if path.is_dir():
            continue
        relative = PurePosixPath(path.relative_to(bundle).as_posix())
        folder = root
        for part in relative.parts[:-1]:
            folder = folder.folders.setdefault(part, _Folder(folder.relative / part))
        folder.files.append(relative)
        count += 1
    return root, count


def fragment_text(bundle: Path, source_prefix: str, main_exe: str) -> tuple[str, int]:
    """The fragment's XML and the number of files. Sources are `source_prefix/<path in bundle>`
    (wixl resolves relative sources against the fragment's folder; keep the prefix relative)."""
    root, count = _tree(bundle)
    if not (bundle / main_exe).is_file():
        raise FileNotFoundError(f"the bundle {bundle} has no {main_exe}")
    components: list[str] = []
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f"<!-- Made by installer/windows/files_fragment.py from {bundle.name}: do not edit. -->",
        f'<Wix xmlns="{WIX_NAMESPACE}">',
        "  <Fragment>",
        f'    <DirectoryRef Id="{INSTALL_DIR_ID}">',
    ]

    def emit(folder: _Folder, depth: int) -> None:
        pad = "  " * depth
        for relative in folder.files:
            component = _id("c", relative)
            file_id = MAIN_EXE_ID if relative.as_posix() == main_exe else _id("f", relative)
            source = f"{source_prefix}/{relative.as_posix()}" if source_prefix else relative
            components.append(component)
            lines.append(
                f'{pad}<Component Id="{component}" Guid="{component_guid(relative)}" Win64="yes">'
            )
            lines.append(
                f'{pad}  <File Id="{file_id}" Name={quoteattr(relative.name)} '
                f'Source={quoteattr(str(source))} KeyPath="yes" />'
            )
            lines.append(f"{pad}</Component>")
        for name, child in sorted(folder.folders.items()):
            lines.append(f'{pad}<Directory Id="{_id("d", child.relative)}" Name={quoteattr(name)}>')
            emit(child, depth + 1)
            lines.append(f"{pad}</Directory>")

    emit(root, 3)
    lines += ["    </DirectoryRef>", "  </Fragment>", "  <Fragment>"]
    lines.append(f'    <ComponentGroup Id="{GROUP_ID}">')
    lines += [f'      <ComponentRef Id="{component}" />' for component in components]
    lines += ["    </ComponentGroup>", "  </Fragment>", "</Wix>", ""]
    return "\n".join(lines), count


def write_fragment(bundle: Path, output: Path, main_exe: str) -> int:
    """Write the fragment next to where wixl/WiX will read it; return the number of files."""
    prefix = Path(os.path.relpath(bundle.resolve(), output.resolve().parent)).as_posix()
    text, count = fragment_text(bundle, prefix, main_exe)
    output.write_text(text, encoding="utf-8")
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("bundle", type=Path, help="the PyInstaller one-folder bundle")
    parser.add_argument("output", type=Path, help="the .wxs fragment to write")
    parser.add_argument("--main-exe", default="clinic-desk.exe")
    args = parser.parse_args(argv)
    write_fragment(args.bundle, args.output, args.main_exe)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
