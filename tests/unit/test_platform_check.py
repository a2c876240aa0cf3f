"""The window's start-up check: a Qt platform plugin that cannot load gives install advice, not an abort.

The end-to-end tests start the real `main.py` with the real Qt; the library checks run `ldd` on real ELF files
(PySide6's own plugin, and a copy of one whose dependency name was changed to one no system has).
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from studio.platform_check import (XCB_LIBRARIES, debian_packages, fedora_packages, install_lines,
                                   missing_libraries, startup_advice)

REPO = Path(__file__).resolve().parents[2]
PLATFORMS = Path(__import__("PySide6").__file__).parent / "Qt" / "plugins" / "platforms"
QT_LIB = PLATFORMS.parents[1] / "lib"
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt's xcb plugin exists on Linux only")


def _needed(elf: Path) -> list[str]:
    """DT_NEEDED entries of a 64-bit little-endian ELF file (what it links against directly)."""
    data = elf.read_bytes()
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, f"{elf} is not a 64-bit LE ELF file"
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    dynamic = next(s for s in sections if s[1] == 6)  # SHT_DYNAMIC
    strtab = sections[dynamic[6]]
    names = []
    for offset in range(dynamic[4], dynamic[4] + dynamic[5], 16):
        tag, value = struct.unpack_from("<qQ", data, offset)
        if tag == 0:
            break
        if tag == 1:  # DT_NEEDED
            start = strtab[4] + value
            names.append(data[start:data.index(b"\0", start)].decode())
    return names


def _start_main(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {key: value for key, value in os.environ.items()
               if key not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "QT_QPA_PLATFORM_PLUGIN_PATH")}
    environ.update(env, HOME=str(tmp_path), STUDIO_CONFIG_DIR=str(tmp_path / "config"))
    return subprocess.run([sys.executable, str(REPO / "main.py")], cwd=tmp_path, env=environ,
                          capture_output=True, text=True, timeout=120)


@linux_only
def test_table_covers_every_system_library_the_xcb_plugin_links_against():
    own = {path.name for path in QT_LIB.iterdir()}
    system = {"libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1", "libz.so.1", "libzstd.so.1",
              "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "libdl.so.2", "libpthread.so.0"}
    needed = set(_needed(PLATFORMS / "libqxcb.so"))
    for library in list(needed):
        if library in own and library.startswith(("libQt6XcbQpa", "libQt6Gui", "libQt6DBus")):
            needed |= set(_needed(QT_LIB / library))
    outside = {name for name in needed if name not in own and name not in system}
    assert "libxcb-cursor.so.0" in outside and "libxcb-icccm.so.4" in outside  # the parser reads real entries
    assert outside - set(XCB_LIBRARIES) == set()


def test_readme_lists_every_package_of_the_table():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    apt = re.search(r"sudo apt-get install ([^\n`]+)", text)
    dnf = re.search(r"sudo dnf install ([^\n`]+)", text)
    assert apt and set(apt.group(1).split()) == set(debian_packages())
    assert dnf and set(dnf.group(1).split()) == set(fedora_packages())


@linux_only
def test_missing_libraries_names_a_dependency_the_system_lacks(tmp_path):
    if shutil.which("ldd") is None:
        pytest.skip("no ldd on this system; test_missing_libraries_without_ldd covers the fallback")
    plugin = PLATFORMS / "libqminimal.so"
    assert missing_libraries(plugin) == []  # RUNPATH finds the wheel's Qt libraries
    broken = tmp_path / "libqxcb.so"
    data = plugin.read_bytes()
    assert data.count(b"libQt6Gui.so.6\0") == 1
    broken.write_bytes(data.replace(b"libQt6Gui.so.6\0", b"libQt6Gux.so.6\0"))
    assert "libQt6Gux.so.6" in missing_libraries(broken)

    problem = startup_advice(['qt.qpa.plugin: Could not load the Qt platform plugin "xcb" in "" even though it '
                              "was found."], plugin_dirs=[tmp_path], environ={"DISPLAY": ":0"})
    assert problem.kind == "libraries" and "libQt6Gux.so.6" in problem.advice
    assert "the packages that provide" in problem.advice


@linux_only
def test_missing_libraries_without_ldd(tmp_path, monkeypatch):
    """Where there is no `ldd` (musl systems), the dynamic loader's own error names the first missing one."""
    broken = tmp_path / "libqxcb.so"
    broken.write_bytes((PLATFORMS / "libqminimal.so").read_bytes().replace(b"libQt6Gui.so.6\0", b"libQt6Gux.so.6\0"))
    monkeypatch.setattr("studio.platform_check.shutil.which", lambda name: None)
    found = missing_libraries(broken)
    assert len(found) == 1 and re.fullmatch(r"libQt6\w+\.so\.6", found[0])


def test_missing_libraries_of_something_that_is_not_a_library(tmp_path):
    junk = tmp_path / "libqxcb.so"
    junk.write_bytes(b"not an ELF file")
    assert missing_libraries(junk) == []
    assert missing_libraries(tmp_path / "absent.so") == []


def test_install_lines_name_the_packages():
    lines = install_lines(["libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libfoo.so.9"])
    assert lines[0].split("install ")[1] == "libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1"
    assert lines[1].split("install ")[1] == "xcb-util-cursor xcb-util-wm xcb-util-keysyms"
    assert lines[2] == "  and the packages that provide libfoo.so.9"


def test_advice_for_no_display_and_unknown_plugin():
    display = startup_advice(['qt.qpa.xcb: could not connect to display :7',
                              'qt.qpa.plugin: Could not load the Qt platform plugin "xcb" in "" even though it was '
                              "found."], plugin_dirs=[], environ={"DISPLAY": ":7"})
    assert display.kind == "display" and "':7' does not answer" in display.advice and "xvfb-run" in display.advice
    unknown = startup_advice(['qt.qpa.plugin: Could not find the Qt platform plugin "bogus" in ""',
                              "Available platform plugins are: minimal, offscreen, xcb."],
                             plugin_dirs=[Path("/nowhere")], environ={})
    assert unknown.kind == "plugin" and 'no platform plugin "bogus"' in unknown.advice
    assert "Available: minimal, offscreen, xcb." in unknown.advice


def test_main_py_explains_an_unknown_platform_plugin_instead_of_aborting(tmp_path):
    done = _start_main(tmp_path, QT_QPA_PLATFORM="bogus")
    assert done.returncode == 3, done.stderr
    assert 'Qt has no platform plugin "bogus"' in done.stderr
    assert "Unset QT_QPA_PLATFORM" in done.stderr and "Qt said:" in done.stderr


@linux_only
def test_main_py_without_a_display_says_what_to_install_or_do(tmp_path):
    """On a machine that lacks some of the xcb plugin's libraries (a fresh Debian) the advice names their
    packages; where all are there, it explains that there is no X display. Either way: exit 3, no abort."""
    missing = missing_libraries(PLATFORMS / "libqxcb.so")
    done = _start_main(tmp_path, QT_QPA_PLATFORM="xcb")
    assert done.returncode == 3, done.stderr
    if missing:
        packages = " ".join(dict.fromkeys(XCB_LIBRARIES[name][0] for name in missing if name in XCB_LIBRARIES))
        assert f"needs system libraries that are missing: {', '.join(missing)}." in done.stderr
        assert f"sudo apt-get install {packages}" in done.stderr
    else:
        assert "there is no X display (DISPLAY is unset)" in done.stderr
