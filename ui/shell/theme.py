"""A dark, neutral look for the whole application (Fusion style + palette + a short style sheet)."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

_COLORS = {
    QPalette.ColorRole.Window: "#2b2b2e",
    QPalette.ColorRole.WindowText: "#e4e4e6",
    QPalette.ColorRole.Base: "#1f1f22",
    QPalette.ColorRole.AlternateBase: "#2f2f33",
    QPalette.ColorRole.ToolTipBase: "#3a3a3e",
    QPalette.ColorRole.ToolTipText: "#f0f0f0",
    QPalette.ColorRole.Text: "#e4e4e6",
    QPalette.ColorRole.Button: "#36363a",
    QPalette.ColorRole.ButtonText: "#e4e4e6",
    QPalette.ColorRole.BrightText: "#ff6b6b",
    QPalette.ColorRole.Highlight: "#3d7bd9",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#6aa7ff",
    QPalette.ColorRole.PlaceholderText: "#8a8a90",
}

_STYLE_SHEET = """
QDockWidget::title { background: #333337; padding: 4px 6px; }
QToolBar { spacing: 2px; border: none; }
QToolButton:checked { background: #3d7bd9; border-radius: 3px; }
QGroupBox { border: 1px solid #45454a; border-radius: 4px; margin-top: 14px; padding-top: 4px; }
QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 3px; }
QLabel#messageError { background: #5a2326; color: #ffd9d9; padding: 6px; border-radius: 3px; }
QLabel#messageInfo { background: #23405a; color: #dcebff; padding: 6px; border-radius: 3px; }
QLabel#demoBanner { background: #6b4f12; color: #fff2cc; padding: 4px; font-weight: bold; }
"""


def apply_dark_theme(app: QApplication) -> None:
    """Switch `app` to the Fusion style with a dark neutral palette."""
    app.setStyle("Fusion")
    palette = QPalette()
    for role, color in _COLORS.items():
        palette.setColor(role, QColor(color))
    disabled = QPalette.ColorGroup.Disabled
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(disabled, role, QColor("#77777c"))
    app.setPalette(palette)
    app.setStyleSheet(_STYLE_SHEET)
