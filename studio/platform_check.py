"""Why the window could not start, in words a user can act on (Qt-free: `main.py` feeds it Qt's messages).

When Qt cannot load its platform plugin it prints "Reinstalling the application may fix this problem" and
aborts (exit 134). The usual cause on a fresh Linux desktop is system libraries that Qt's `xcb` (X11) plugin
links against but PySide6's wheel does not bundle: since Qt 6.5 `libxcb-cursor0`, and `libxcb-icccm4`,
`libxcb-keysyms1` and friends, which a minimal Debian or Ubuntu install lacks. `startup_advice` names the
missing libraries (found with `ldd` on the plugin) and the packages that hold them; it also explains a missing
or unreachable X display and a plugin that does not exist.
"""

from __future__ import annotations

import ctypes
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# Shared libraries Qt 6.11's xcb plugin (libqxcb.so, libQt6XcbQpa.so.6) loads from the system, and the
# Debian/Ubuntu and Fedora packages that hold them.
XCB_LIBRARIES: dict[str, tuple[str, str]] = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libGLX.so.0": ("libglx0", "libglvnd-glx"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2"),
}



def debian_packages() -> list[str]:
    """Every Debian/Ubuntu package the table names, in its order: the README's install line."""
    return list(dict.fromkeys(debian for debian, _ in XCB_LIBRARIES.values()))


def fedora_packages() -> list[str]:
    """Every Fedora package the table names, in its order."""
    return list(dict.fromkeys(fedora for _, fedora in XCB_LIBRARIES.values()))


_NOT_LOADED = re.compile(r'Could not load the Qt platform plugin "([^"]+)"')
_NOT_FOUND = re.compile(r'Could not find the Qt platform plugin "([^"]+)" in "([^"]*)"')
_NO_DISPLAY = re.compile(r"could not connect to display ?(\S*)", re.IGNORECASE)
_AVAILABLE = re.compile(r"Available platform plugins are: ([^\n]*)")


@dataclass
class StartupProblem:
    """What went wrong: `kind` is "libraries", "display", "plugin" or "other"; `advice` is the text to print."""

    kind: str
    advice: str


def missing_libraries(plugin_file: Path) -> list[str]:
    """The shared libraries `plugin_file` needs that the system cannot find (all of them with `ldd`; the first
    one from the dynamic loader's error where there is no `ldd`)."""
    if not plugin_file.is_file():
        return []
    ldd = shutil.which("ldd")
    if ldd:
        try:
            out = subprocess.run([ldd, str(plugin_file)], capture_output=True, text=True, timeout=20).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        found = re.findall(r"^\s*(\S+)\s*=>\s*not found", out, flags=re.MULTILINE)
        if found or out:
            return list(dict.fromkeys(found))
    try:
        ctypes.CDLL(str(plugin_file))
    except OSError as exc:
        match = re.match(r"(\S+?\.so[.\d]*): cannot open shared object file", str(exc))
        return [match.group(1)] if match else []
    return []


def install_lines(libraries: list[str]) -> list[str]:
    """Install commands for `libraries`, and the libraries no package table knows."""
    known = [XCB_LIBRARIES[name] for name in libraries if name in XCB_LIBRARIES]
    unknown = [name for name in libraries if name not in XCB_LIBRARIES]
    lines = []
    if known:
        debian = " ".join(dict.fromkeys(pair[0] for pair in known))
        fedora = " ".join(dict.fromkeys(pair[1] for pair in known))
        lines += [f"  Debian/Ubuntu:  sudo apt-get install {debian}", f"  Fedora:         sudo dnf install {fedora}"]
    if unknown:
        lines.append(f"  and the packages that provide {', '.join(unknown)}")
    return lines


def startup_advice(qt_messages: list[str], *, plugin_dirs: list[Path],
                   environ: dict[str, str]) -> StartupProblem:
    """Explain a platform-plugin failure from the messages Qt printed before giving up; `plugin_dirs` are the
    folders Qt searches for platform plugins, in its order."""
    text = "\n".join(qt_messages)
    head = "ControlNet Studio cannot open its window:"
    not_found = _NOT_FOUND.search(text)
    if not_found:
        name, where = not_found.groups()
        where = where or ", ".join(map(str, plugin_dirs))
        available = _AVAILABLE.search(text)
        choices = available.group(1).strip().rstrip(".") if available and available.group(1).strip() else "none"
        return StartupProblem("plugin", "\n".join([
            f'{head} Qt has no platform plugin "{name}" (looked in "{where}").',
            f"  Available: {choices}.",
            "  Unset QT_QPA_PLATFORM and QT_QPA_PLATFORM_PLUGIN_PATH if you set them, or reinstall Qt for Python:",
            "  .venv/bin/pip install --force-reinstall PySide6-Essentials==6.11.3",
        ]))
    loaded = _NOT_LOADED.search(text)
    name = loaded.group(1) if loaded else (environ.get("QT_QPA_PLATFORM") or "xcb").split(":")[0]
    plugin = next((folder / f"libq{name}.so" for folder in plugin_dirs if (folder / f"libq{name}.so").is_file()),
                  None)
    missing = missing_libraries(plugin) if plugin else []
    if missing:
        return StartupProblem("libraries", "\n".join([
            f'{head} Qt\'s "{name}" platform plugin needs system libraries that are missing: '
            f"{', '.join(missing)}.",
            "Install them, then start the app again:",
            *install_lines(missing),
            "(The README's \"System packages\" section lists all a fresh desktop needs.)",
        ]))
    no_display = _NO_DISPLAY.search(text)
    if no_display or (name == "xcb" and not environ.get("DISPLAY")):
        display = environ.get("DISPLAY")
        where = f"the X display {display!r} does not answer" if display else "there is no X display (DISPLAY is unset)"
        return StartupProblem("display", "\n".join([
            f"{head} {where}.",
            "  Start it from a desktop session; over SSH use `ssh -X`; on a machine without a screen run it",
            "  under a virtual one: `xvfb-run .venv/bin/python main.py`.",
        ]))
    first = next((line for line in qt_messages if line.strip()), "no message")
    return StartupProblem("other", f'{head} Qt could not start its "{name}" platform plugin ({first.strip()}).\n'
                                   "  Try another with QT_QPA_PLATFORM=xcb or QT_QPA_PLATFORM=wayland.")
