"""Starts the ControlNet Studio window.

If Qt cannot start its platform plugin (missing system libraries, no display), this prints what to install or
do and exits with status 3, instead of Qt's "Reinstalling the application may fix this problem" and an abort.
"""

import os
import sys
from pathlib import Path

from studio.cli_output import quiet_libraries

EXIT_NO_WINDOW = 3


def start_qt(argv: list[str]):
    """Create the QApplication; a platform-plugin failure ends the process with advice instead of an abort."""
    from PySide6.QtCore import QLibraryInfo, QtMsgType, qInstallMessageHandler

    messages: list[str] = []

    def collect(kind, context, message):
        category = context.category if context is not None else ""
        messages.append(f"{category}: {message}" if category and category != "default" else message)
        if kind == QtMsgType.QtFatalMsg:  # Qt aborts when this returns
            from studio.platform_check import startup_advice

            plugin_dirs = [Path(folder) for folder in os.environ.get("QT_QPA_PLATFORM_PLUGIN_PATH", "").split(
                os.pathsep) if folder]
            plugin_dirs.append(Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms")
            problem = startup_advice(messages, plugin_dirs=plugin_dirs, environ=dict(os.environ))
            details = "\n".join(f"    {line}".rstrip() for text in messages for line in text.strip().splitlines())
            sys.stderr.write(f"{problem.advice}\n\nQt said:\n{details}\n")
            sys.stderr.flush()
            os._exit(EXIT_NO_WINDOW)

    qInstallMessageHandler(collect)
    from PySide6.QtWidgets import QApplication

    try:
        app = QApplication(argv)
    finally:
        qInstallMessageHandler(None)
    for message in messages:  # what Qt said while starting, as its own handler would have printed it
        print(message, file=sys.stderr)
    return app


if __name__ == "__main__":
    quiet_libraries()
    start_qt(sys.argv)
    from ui.shell.app import run

    sys.exit(run(sys.argv))
