"""The window fits a 1366x768 laptop screen: the Generate panel scrolls up and down only, never sideways."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication


@pytest.fixture(params=[None, 12], ids=["default-font", "12pt-font"])
def font_size(request):
    """The default offscreen font, and a larger one like a desktop's, which widens every widget."""
    app = QApplication.instance()
    old = app.font()
    if request.param is not None:
        font = QFont(old)
        font.setPointSize(request.param)
        app.setFont(font)
    yield request.param
    app.setFont(old)


def _inside(widget, viewport) -> bool:
    """The whole widget lies within the viewport (after scrolling it into view vertically)."""
    return viewport.rect().contains(QRect(widget.mapTo(viewport, QPoint(0, 0)), widget.size()))


def test_generate_panel_fits_1366x768_without_horizontal_scrolling(make_window, qtbot, font_size):
    window = make_window()
    window.resize(1366, 768)
    qtbot.waitUntil(lambda: window.width() == 1366)
    QApplication.processEvents()
    panel = window.generate_panel
    scroll = panel.scroll_area
    viewport = scroll.viewport()
    assert not scroll.horizontalScrollBar().isVisible()
    # Nothing is cut off on the right: the body is no wider than the viewport, nor does it need to be.
    assert scroll.widget().width() <= viewport.width()
    assert scroll.widget().minimumSizeHint().width() <= viewport.width()
    for widget in (panel.models_button, panel.random_seed_check, panel.reuse_seed_button, panel.model_combo,
                   panel.height_spin, panel.steps_spin):
        assert widget.isVisible(), widget
        scroll.ensureWidgetVisible(widget, 0, 0)
        QApplication.processEvents()
        assert _inside(widget, viewport), (widget, widget.mapTo(viewport, QPoint(0, 0)), viewport.size())
    # The run buttons stay outside the scrolled area, always in view.
    for button in (panel.generate_button, panel.cancel_button):
        assert button.isVisible()
        right = button.mapTo(panel, QPoint(button.width(), 0)).x()
        assert right <= panel.width()


def test_advanced_settings_fold_away_and_sections_collapse(window, qtbot):
    panel = window.generate_panel
    assert not panel.sections["advanced"].is_open
    assert not panel.guidance_spin.isVisible()
    panel.sections["advanced"].set_open(True)
    assert panel.guidance_spin.isVisible() and panel.scheduler_combo.isVisible()
    panel.sections["prompt"].header.click()
    assert not panel.prompt_edit.isVisible()
    panel.sections["prompt"].header.click()
    assert panel.prompt_edit.isVisible()


def test_history_buttons_are_in_view_at_1366x768_without_scrolling(make_window, qtbot):
    from PySide6.QtWidgets import QScrollArea

    window = make_window()
    window.resize(1366, 768)
    qtbot.waitUntil(lambda: window.width() == 1366)
    QApplication.processEvents()
    panel = window.history_panel
    viewport = panel.findChild(QScrollArea).viewport()
    for widget in (panel.restore_button, panel.compare_button, panel.count_label, panel.search_edit):
        assert widget.isVisible() and _inside(widget, viewport), (widget, widget.mapTo(viewport, QPoint(0, 0)))
