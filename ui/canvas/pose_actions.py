"""The pose commands of the window: File ▸ Import / Export Pose JSON (and .json files dropped on the canvas),
and the Pose menu (delete, mirror, add hands or face, hide or show hands, face and single joints), which is also
the canvas's right-click menu while the pose tool is current (a right-click on a joint selects it for Hide Joint).

The Pose menu is always populated; `refresh()` enables each action from the state (is there a person to act on,
does it have hands, are some of its joints hidden...), after every pose edit and selection change.
Importing is one undo step; a file that cannot be read changes nothing and says why; the reader's notes (people
skipped, points padded) are shown. A file with several frames (ComfyUI's POSE_KEYPOINT) asks which frame.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QPointF
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from studio.document import ChangeEvent, Document
from studio.document.errors import PoseFormatError
from studio.document.keypoints import BODY_NAMES
from studio.document.openpose_json import MAX_JSON_BYTES, OpenPoseFile, load_openpose_frames
from studio.errors import StudioError
from ui.common.commands import Command
from ui.dialogs.pose_frames import choose_frame

if TYPE_CHECKING:
    from ui.canvas.view import CanvasView
    from ui.common.context import AppContext

JSON_FILTER = "OpenPose JSON (*.json);;All files (*)"
HANDS = ("left_hand", "right_hand")
#: Actions that also get a button in the tool options bar while the pose tool is current.
TOOLBAR_KEYS = ("delete_person", "mirror_person", "add_hands", "add_face")
PART_NAMES = {"left_hand": "Left hand", "right_hand": "Right hand", "face": "Face"}
FrameChooser = Callable[[list[OpenPoseFile], str], "int | None"]


def joint_name(part: str, index: int) -> str:
    """"Right wrist", "Left hand point 5", "Face point 12"."""
    if part == "body":
        return BODY_NAMES[index].replace("_", " ").capitalize()
    return f"{PART_NAMES[part]} point {index}"


def _any(points, shown: bool) -> bool:
    return points is not None and bool((points.visible == shown).any())


class PoseCommands(QObject):
    """Controller of the pose commands. `choose_frame(frames, file_name)` asks for a frame (default: a dialog)."""

    def __init__(self, context: "AppContext", *, view: "CanvasView", choose: FrameChooser | None = None) -> None:
        super().__init__(context)
        self.context = context
        self.view = view
        self.tool = view.tools["pose"]
        self.choose_frame: FrameChooser = choose or (
            lambda frames, name: choose_frame(frames, file_name=name, parent=context.widget))
        self.actions: dict[str, QAction] = {}
        self.joints_menu: QMenu | None = None
        self._unsubscribe: Callable[[], None] | None = None
        context.document_changed.connect(self._document_changed)
        self.tool.selection_changed.connect(self.refresh)
        viewport = view.viewport()
        viewport.setAcceptDrops(True)
        viewport.installEventFilter(self)

    # Menu ----------------------------------------------------------------------------------------
    def commands(self) -> list[Command]:
        run, tool = self.view.run_edit, self.tool
        return [
            Command("import_pose", "File", "Import &Pose JSON…", self.import_dialog, separator=True,
                    tip="Replace the pose layer with an OpenPose JSON file (also: drop the file on the canvas)"),
            Command("export_pose", "File", "Export Pose &JSON…", self.export_dialog,
                    tip="Save the pose layer as OpenPose JSON, as ControlNet pose editors read it"),
            Command("delete_person", "Pose", "&Delete Person", lambda: run(tool.delete_selected), shortcut="Delete"),
            Command("mirror_person", "Pose", "&Mirror Person", lambda: run(tool.mirror_selected), shortcut="Ctrl+M"),
            Command("add_hands", "Pose", "Add &Hands", lambda: run(tool.add_hands)),
            Command("add_face", "Pose", "Add &Face", lambda: run(tool.add_face)),
            Command("hide_hands", "Pose", "Hide Hands", lambda: run(lambda: tool.set_parts_visible(
                HANDS, False, "hands")), separator=True),
            Command("show_hands", "Pose", "Show Hands", lambda: run(lambda: tool.set_parts_visible(
                HANDS, True, "hands"))),
            Command("hide_face", "Pose", "Hide Face", lambda: run(lambda: tool.set_parts_visible(
                ("face",), False, "face"))),
            Command("show_face", "Pose", "Show Face", lambda: run(lambda: tool.set_parts_visible(
                ("face",), True, "face"))),
            Command("hide_joint", "Pose", "Hide &Joint", lambda: run(tool.hide_selected_point), shortcut="Shift+H",
                    tip="Hide the joint last clicked with the pose tool", separator=True),
        ]

    def bind(self, actions: dict[str, QAction], menu: QMenu) -> None:
        """Take the menu's actions (by key) to enable them from the state; add the Show Joint submenu to `menu`."""
        self.actions = {command.key: actions[command.key] for command in self.commands()}
        self.joints_menu = menu.addMenu("&Show Joint")
        self.joints_menu.aboutToShow.connect(self._fill_joints_menu)
        self.refresh()

    def hidden_joints(self) -> list[tuple[str, str, int | None]]:
        """(label, part, index) of what the target person hides: body joints one by one, hands and face whole
        (index None: show the whole part)."""
        target = self.tool.target if self.view.document is not None else None
        if target is None:
            return []
        person = self.view.document.pose.people[target]
        found = [(joint_name("body", index), "body", index)
                 for index in range(len(person.body)) if not person.body.visible[index]]
        for part, name in PART_NAMES.items():
            points = person.part(part)
            hidden = 0 if points is None else int((~points.visible).sum())
            if hidden:
                found.append((f"{name} ({hidden} hidden points)", part, None))
        return found

    def _fill_joints_menu(self) -> None:
        menu = self.joints_menu
        menu.clear()
        for label, part, index in self.hidden_joints():
            action = menu.addAction(label)
            if index is None:
                action.triggered.connect(lambda _c=False, p=part: self.view.run_edit(
                    lambda: self.tool.set_parts_visible((p,), True, PART_NAMES[p].lower())))
            else:
                action.triggered.connect(lambda _c=False, p=part, i=index: self.view.run_edit(
                    lambda: self.tool.show_point(p, i)))
        if menu.isEmpty():
            menu.addAction("No hidden joints").setEnabled(False)

    def refresh(self) -> None:
        """Enable each pose action from the current state."""
        if not self.actions:
            return
        document = self.context.document
        people = document.pose.people if document is not None else ()
        shown = document is not None and self.view.document is document  # else the canvas is still switching
        target = self.tool.target if shown else (0 if len(people) == 1 else None)
        person = people[target] if target is not None else None
        hands = [person.part(part) for part in HANDS] if person is not None else []
        face = person.face if person is not None else None
        state = {
            "import_pose": document is not None,
            "export_pose": bool(people),
            "delete_person": person is not None,
            "mirror_person": person is not None,
            "add_hands": person is not None,
            "add_face": person is not None,
            "hide_hands": any(_any(hand, True) for hand in hands),
            "show_hands": any(_any(hand, False) for hand in hands),
            "hide_face": _any(face, True),
            "show_face": _any(face, False),
            "hide_joint": shown and self.tool.selected_point is not None,
        }
        for key, enabled in state.items():
            self.actions[key].setEnabled(enabled)
        point = self.tool.selected_point if shown else None
        self.actions["hide_joint"].setText(f"Hide &Joint ({joint_name(point.part, point.index)})" if point
                                           else "Hide &Joint")
        if self.joints_menu is not None:
            self.joints_menu.setEnabled(shown and bool(self.hidden_joints()))

    def _document_changed(self, document: Document) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._unsubscribe = document.subscribe(self._on_change)
        self.refresh()

    def _on_change(self, event: ChangeEvent) -> None:
        if event.layer == "pose":
            self.refresh()

    # Import --------------------------------------------------------------------------------------
    def import_dialog(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self.context.widget, "Import OpenPose JSON",
                                              str(self.context.app_settings.last_folder()), JSON_FILTER)
        if name:
            self.import_file(Path(name))

    def import_file(self, path: Path, *, frame: int | None = None) -> bool:
        """Replace the pose layer with the people of `path` (one undo step); `frame` picks a frame of a
        multi-frame file (None: ask when there are several). False when nothing was imported."""
        path = Path(path)
        document = self.context.document
        try:
            data = self._read(path)
            frames = load_openpose_frames(data, canvas_size=(document.width, document.height))
            if frame is None and len(frames) > 1:
                frame = self.choose_frame(frames, path.name)
                if frame is None:
                    self.context.show_status("Pose import cancelled; the pose layer is unchanged.")
                    return False
            index = 0 if frame is None else frame
            if not 0 <= index < len(frames):
                raise PoseFormatError(f"There is no frame {index + 1}; the file holds {len(frames)}.")
            if not frames[index].people:
                why = " ".join(frames[index].notes) or "It lists no people."
                raise PoseFormatError(f"The file holds no person with a body, so there is nothing to import. {why}")
            notes = document.pose.import_openpose(data, frame=index if len(frames) > 1 else None)
        except StudioError as exc:
            self.context.report_error(f"{path.name}: {exc} The pose layer is unchanged.", title="Import pose")
            return False
        self.context.app_settings.set_last_folder(path.parent)
        self.view.set_tool("pose")
        self.tool.select(None)
        count = len(document.pose.people)
        where = f" (frame {index + 1} of {len(frames)})" if len(frames) > 1 else ""
        self.context.show_status(f"Imported {count} {'person' if count == 1 else 'people'} from {path.name}"
                                 f"{where}. Undo takes it back.")
        if notes:
            self.context.show_notice(f"Imported {path.name}{where}: " + " ".join(notes))
        return True

    @staticmethod
    def _read(path: Path) -> bytes:
        try:
            if path.stat().st_size > MAX_JSON_BYTES:
                raise PoseFormatError("The file is larger than 64 MB; that is not a pose.")
            return path.read_bytes()
        except OSError as exc:
            raise PoseFormatError(f"It cannot be read ({exc.strerror or exc}).") from exc

    # Export --------------------------------------------------------------------------------------
    def export_dialog(self) -> None:
        start = self.context.app_settings.last_folder() / "pose.json"
        name, _ = QFileDialog.getSaveFileName(self.context.widget, "Export OpenPose JSON", str(start), JSON_FILTER)
        if name:
            path = Path(name)
            self.export_file(path if path.suffix else path.with_suffix(".json"))

    def export_file(self, path: Path) -> bool:
        """Write the pose layer as OpenPose JSON (canvas = document size), replacing `path` atomically."""
        path = Path(path)
        document = self.context.document
        temp = path.with_name(f".{path.name}.tmp")
        try:
            temp.write_text(document.pose.export_openpose(), encoding="utf-8")
            os.replace(temp, path)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            self.context.report_error(f"Could not write {path.name} ({exc.strerror or exc}).", title="Export pose")
            return False
        self.context.app_settings.set_last_folder(path.parent)
        count = len(document.pose.people)
        self.context.show_status(f"Exported {count} {'person' if count == 1 else 'people'} to {path.name}.")
        return True

    # Drag and drop onto the canvas -----------------------------------------------------------------
    @staticmethod
    def _dropped_json(event: QDragEnterEvent | QDropEvent) -> Path | None:
        mime = event.mimeData()
        if mime is None or not mime.hasUrls():
            return None
        paths = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
        return paths[0] if len(paths) == 1 and paths[0].suffix.lower() == ".json" else None

    def context_menu(self, scene_pos: QPointF) -> QMenu | None:
        """The canvas menu of the pose tool at `scene_pos`: a joint there is selected and can be hidden; the
        person's commands follow. None when the pose tool is not current."""
        if self.view.tool is not self.tool or self.view.document is None:
            return None
        point = self.tool.point_at(scene_pos)
        person = point.person if point is not None else self.tool.person_at(scene_pos)
        self.tool.select(person, point)
        menu = QMenu(self.view)
        if point is not None:
            menu.addAction(self.actions["hide_joint"])
        if self.joints_menu is not None:
            menu.addMenu(self.joints_menu)
        menu.addSeparator()
        for key in ("hide_hands", "show_hands", "hide_face", "show_face"):
            if self.actions[key].isEnabled():
                menu.addAction(self.actions[key])
        menu.addSeparator()
        for key in TOOLBAR_KEYS:
            menu.addAction(self.actions[key])
        return menu

    def eventFilter(self, watched: QWidget, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.ContextMenu and self.actions:
            menu = self.context_menu(self.view.mapToScene(event.pos()))
            if menu is not None:
                menu.exec(event.globalPos())
                menu.deleteLater()
                return True
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop):
            path = self._dropped_json(event)
            if path is not None:
                event.acceptProposedAction()
                if kind == QEvent.Type.Drop:
                    self.import_file(path)
                return True
        return super().eventFilter(watched, event)
