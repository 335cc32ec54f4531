"""Build (and optionally sign) the Clinic Desk MSI on Linux with msitools' wixl and osslsigncode.

    python installer/windows/build_msi.py BUNDLE_DIR OUT.msi [--cert C.pem --key K.pem]

The same clinic-desk.wxs builds on Windows with the WiX toolset (see the release workflow).
wixl reads neither a Component's <Condition> nor Property/@Secure, so after it runs this script
writes both into the MSI's tables (msibuild), giving the package WiX would have made.
"""

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

WINDOWS_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(WINDOWS_DIR.parent.parent))

from installer.bundle_metadata import project_version  # noqa: E402
from installer.windows.files_fragment import write_fragment  # noqa: E402

PRODUCT_WXS = WINDOWS_DIR / "clinic-desk.wxs"
#: Properties passed from msiexec's command line to the elevated install (Secure="yes").
SECURE_PROPERTIES = ("SERVER_URL", "SAVED_SERVER_URL")
#: (component, condition) pairs the .wxs declares with <Condition> under <Component>.
COMPONENT_CONDITIONS = (("ServerUrlPolicy", "SERVER_URL"),)


def msi_version(version: str) -> str:
    """An MSI ProductVersion (major.minor.build, numbers only) from a PEP 440 version."""
    match = re.match(r"^(\d+)(?:\.(\d+))?(?:\.(\d+))?", version)
    if match is None:
        raise ValueError(f"{version!r} does not start with a version number")
    return ".".join(part or "0" for part in match.groups())


def _run(command: list[str]) -> str:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def table_rows(msi: Path, table: str) -> list[list[str]]:
    """The rows of an MSI table (msiinfo export), without its three header lines."""
    exported = _run(["msiinfo", "export", str(msi), table])
    return [line.split("\t") for line in exported.splitlines()[3:]]


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def apply_wixl_fixups(msi: Path) -> None:
    properties = {row[0]: row[1] for row in table_rows(msi, "Property") if len(row) >= 2}
    secure = [p for p in properties.get("SecureCustomProperties", "").split(";") if p]
    secure += [name for name in SECURE_PROPERTIES if name not in secure]
    queries = []
    if "SecureCustomProperties" in properties:
        queries.append(
            "UPDATE `Property` SET `Value` = "
            f"{_sql_text(';'.join(secure))} WHERE `Property` = 'SecureCustomProperties'"
        )
    else:
        queries.append(
            "INSERT INTO `Property` (`Property`, `Value`) "
            f"VALUES ('SecureCustomProperties', {_sql_text(';'.join(secure))})"
        )
    for component, condition in COMPONENT_CONDITIONS:
        queries.append(
            f"UPDATE `Component` SET `Condition` = {_sql_text(condition)} "
            f"WHERE `Component` = {_sql_text(component)}"
        )
    for query in queries:
        _run(["msibuild", str(msi), "-q", query])


def build_msi(bundle: Path, output: Path, main_exe: str, version: str | None = None) -> int:
    """Build OUT.msi from the bundle folder; return the number of payload files."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="clinic-desk-msi-", dir=output.parent) as work:
        fragment = Path(work) / "files.wxs"
        count = write_fragment(bundle, fragment, main_exe)
        _run([
            "wixl", "-a", "x64", "-D", "Wixl=1",
            "-D", f"Version={msi_version(version or project_version())}",
            "-o", str(output), str(PRODUCT_WXS), str(fragment),
        ])
    apply_wixl_fixups(output)
    return count


def make_throwaway_certificate(folder: Path, common_name: str) -> tuple[Path, Path]:
    """A self-signed code-signing certificate and key valid for two days, for tests and benches.

    Real releases sign with the certificate from the environment (see the release workflow).
    """
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={common_name}",
            "-addext", "extendedKeyUsage=codeSigning",
            "-addext", "keyUsage=critical,digitalSignature",
        ],
        check=True, capture_output=True,
    )
    return cert, key


def sign_msi(msi: Path, signed: Path, cert: Path, key: Path) -> None:
    """Authenticode-sign with osslsigncode (no timestamp: that needs the network)."""
    signed.unlink(missing_ok=True)
    _run([
        "osslsigncode", "sign", "-certs", str(cert), "-key", str(key),
        "-n", "Clinic Desk", "-h", "sha256", "-in", str(msi), "-out", str(signed),
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the Clinic Desk MSI with wixl.")
    parser.add_argument("bundle", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--main-exe", default="clinic-desk.exe")
    parser.add_argument("--cert", type=Path, help="PEM code-signing certificate (chain)")
    parser.add_argument("--key", type=Path, help="PEM private key of --cert")
    args = parser.parse_args(argv)
    if (args.cert is None) != (args.key is None):
        parser.error("--cert and --key go together")
    if args.cert is None:
        build_msi(args.bundle, args.output, args.main_exe)
        return 0
    unsigned = args.output.with_suffix(".unsigned.msi")
    build_msi(args.bundle, unsigned, args.main_exe)
    sign_msi(unsigned, args.output, args.cert, args.key)
    unsigned.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
