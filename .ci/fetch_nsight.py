#!/usr/bin/env python3
"""Fetch Nsight Systems' ImportNvtxt (and nsys, to read reports back) for the `nsight`-marked tests.

Debian 12's non-free `nsight-systems` 2022.4 package holds host-linux-x64/ImportNvtxt; it needs libssh.so.4
(`libssh-4`) beside it. `nsight-systems-target` holds the `nsys` CLI, whose `export --type json` lets the tests
read imported names back. The packages are pinned by SHA-256 and unpacked with the standard library (no dpkg,
no root) into DEST; only the libraries ImportNvtxt loads are kept. Prints the two paths as shell assignments
(TRTSCOPE_IMPORTNVTXT=..., TRTSCOPE_NSYS=...). Any failure (no network, a moved mirror) prints a message on
stderr and exits 0 with no assignments, so CI runs on and the `nsight` tests skip with their reason.

Usage: python3 .ci/fetch_nsight.py DEST
"""

from __future__ import annotations

import hashlib
import io
import lzma
import os
import shutil
import subprocess
import sys
import tarfile
import urllib.request
from pathlib import Path

MIRRORS = (
    "http://deb.debian.org/debian/",
    "https://snapshot.debian.org/archive/debian/20250520T000000Z/",
)
PACKAGES = {
    "nsight-systems": ("pool/non-free/n/nvidia-cuda-toolkit/nsight-systems_2022.4.2.1~11.8.0-5~deb12u1_amd64.deb",
                       "3bfcdf9119a3aab3dadd6aa9faedb5407b71f6afaa678e98b54ab97d87627c2e"),
    "nsight-systems-target": (
        "pool/non-free/n/nvidia-cuda-toolkit/nsight-systems-target_2022.4.2.1~11.8.0-5~deb12u1_amd64.deb",
        "420ab94d22cb8e30feaf88f0acb7735500ffd564e5a2027f09e87438ac11615e"),
    "libssh-4": ("pool/main/libs/libssh/libssh-4_0.10.6-0+deb12u2_amd64.deb",
                 "2158d90ac21364655fe0372b23341fa3f871146bf3525f7dffef6dfa8f28448a"),
}
HOST = "usr/lib/nsight-systems/host-linux-x64/"
TARGET = "usr/lib/x86_64-linux-gnu/nsight-systems/target-linux-x64/"


def log(msg: str) -> None:
    print(f"fetch_nsight: {msg}", file=sys.stderr)


def download(name: str) -> bytes:
    path, sha = PACKAGES[name]
    for base in MIRRORS:
        try:
            with urllib.request.urlopen(base + path, timeout=60) as r:
                data = r.read()
        except OSError as err:
            log(f"{base}{path}: {err}")
            continue
        if hashlib.sha256(data).hexdigest() == sha:
            return data
        log(f"{base}{path}: SHA-256 mismatch, ignored")
    raise RuntimeError(f"could not download {name}")


def data_tar(deb: bytes) -> tarfile.TarFile:
    """The data.tar.xz member of a .deb (an `ar` archive)."""
    assert deb[:8] == b"!<arch>\n", "not a .deb"
    pos = 8
    while pos < len(deb):
        name = deb[pos : pos + 16].decode().strip().rstrip("/")
        size = int(deb[pos + 48 : pos + 58].decode().strip())
        body = deb[pos + 60 : pos + 60 + size]
        if name.startswith("data.tar"):
            raw = lzma.decompress(body) if name.endswith(".xz") else body
            return tarfile.open(fileobj=io.BytesIO(raw))
        pos += 60 + size + (size & 1)
    raise RuntimeError("no data.tar in the package")


def extract(tar: tarfile.TarFile, prefix: str, dest: Path, only_top: bool = False) -> None:
    for m in tar.getmembers():
        name = m.name.removeprefix("./")
        if not name.startswith(prefix) or not (m.isfile() or m.issym()):
            continue
        rel = name[len(prefix):]
        if only_top and "/" in rel:
            continue
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        if m.issym():
            continue  # the only links that matter (libssh.so) are recreated below
        with tar.extractfile(m) as src, open(out, "wb") as fh:  # type: ignore[union-attr]
            shutil.copyfileobj(src, fh)
        out.chmod(0o755 if m.mode & 0o111 else 0o644)


def keep_needed(host: Path) -> None:
    """Drop the libraries ImportNvtxt does not load (the GUI's Qt, WebEngine, ...), as ldd resolves them."""
    if not shutil.which("ldd"):
        return
    env = {**os.environ, "LD_LIBRARY_PATH": str(host)}
    out = subprocess.run(["ldd", str(host / "ImportNvtxt")], capture_output=True, text=True, env=env, check=False)
    needed = {Path(line.split("=>")[1].split("(")[0].strip()).name for line in out.stdout.splitlines()
              if "=>" in line and str(host) in line}
    if "not found" in out.stdout or not needed:
        return
    needed |= {(host / n).resolve().name for n in needed}  # the files the needed links point to
    for p in host.iterdir():
        if p.name.startswith("lib") and p.name not in needed:
            p.unlink()


def main(dest: Path) -> int:
    try:
        host, target = dest / "host-linux-x64", dest / "target-linux-x64"
        if not (host / "ImportNvtxt").is_file():
            log("downloading Nsight Systems 2022.4 and libssh-4 from Debian (about 170 MB)")
            extract(data_tar(download("libssh-4")), "usr/lib/x86_64-linux-gnu/", host, only_top=True)
            (host / "libssh.so").unlink(missing_ok=True)
            (host / "libssh.so").symlink_to("libssh.so.4.9.6")
            (host / "libssh.so.4").unlink(missing_ok=True)
            (host / "libssh.so.4").symlink_to("libssh.so.4.9.6")
            extract(data_tar(download("nsight-systems")), HOST, host, only_top=True)
            keep_needed(host)
            extract(data_tar(download("nsight-systems-target")), TARGET, target)
        env = {**os.environ, "LD_LIBRARY_PATH": str(host)}
        probe = subprocess.run([str(host / "ImportNvtxt"), "--help"], capture_output=True, text=True, env=env,
                               check=False, timeout=60)
        if "Program usage" not in probe.stdout + probe.stderr:
            raise RuntimeError(f"ImportNvtxt does not run here: {(probe.stdout + probe.stderr).strip()[-300:]}")
    except Exception as err:  # anything: CI goes on without the nsight tests
        log(f"skipped ({type(err).__name__}: {err}); the nsight-marked tests will skip")
        return 0
    print(f"TRTSCOPE_IMPORTNVTXT={host / 'ImportNvtxt'}")
    if (target / "nsys").is_file():
        print(f"TRTSCOPE_NSYS={target / 'nsys'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/trtscope-nsight")))
