"""Pose layer: any number of people; every operation is one undo step and emits a "pose" event."""

from __future__ import annotations

import math

import numpy as np

from studio.document.errors import DocumentError, PoseFormatError
from studio.document.events import POSE, ChangeEvent
from studio.document.history import UndoStep
from studio.document.layer import Layer
from studio.document.person import Person

HAND_SIDES = {"left": ("left_hand",), "right": ("right_hand",), "both": ("left_hand", "right_hand")}


class PoseStep(UndoStep):
    """Undo step of a pose edit: the people before and after (people are immutable, so this is cheap)."""

    def __init__(self, layer: "PoseLayer", label: str, before: tuple[Person, ...], after: tuple[Person, ...]):
        self.layer = layer
        self.label = label
        self.before = before
        self.after = after

    def undo(self) -> None:
        self.layer._assign(self.before)

    def redo(self) -> None:
        self.layer._assign(self.after)

    @property
    def nbytes(self) -> int:
        return 2 * 4096 * max(1, len(self.before) + len(self.after))

    def merge(self, later: UndoStep) -> bool:
        """Consecutive pose edits inside one history group (a drag) collapse into one step."""
        if isinstance(later, PoseStep) and later.layer is self.layer:
            self.after = later.after
            return True
        return False


class PoseLayer(Layer):
    """OpenPose skeletons in document pixels. People are addressed by their index in `people`."""

    name = "pose"

    def __init__(self, context) -> None:
        super().__init__(context)
        self._people: tuple[Person, ...] = ()

    @property
    def people(self) -> tuple[Person, ...]:
        return self._people

    def __len__(self) -> int:
        return len(self._people)

    def _copy_from(self, source: "PoseLayer") -> None:
        super()._copy_from(source)
        self._people = source._people  # a tuple of immutable people

    # -- plumbing --------------------------------------------------------------------------------
    def _assign(self, people: tuple[Person, ...]) -> None:
        self._people = people
        self.emit(ChangeEvent(self.name, POSE, None))

    def _commit(self, people, label: str) -> None:
        self.check_editable()
        people = tuple(people)
        for person in people:
            if not isinstance(person, Person):
                raise PoseFormatError("The pose layer holds Person objects only.")
        before = self._people
        self._assign(people)
        self.history.push(PoseStep(self, label, before, people))

    def _person(self, index: int) -> Person:
        if not isinstance(index, (int, np.integer)) or not 0 <= index < len(self._people):
            raise DocumentError(f"There is no person {index} on the pose layer ({len(self._people)} people).")
        return self._people[index]

    def _replace(self, index: int, person: Person, label: str) -> None:
        self._person(index)
        people = list(self._people)
        people[index] = person
        self._commit(people, label)

    # -- whole layer -----------------------------------------------------------------------------
    def set_people(self, people, *, label: str = "Set pose") -> None:
        """Replace all people (e.g. after importing OpenPose JSON)."""
        self._commit(people, label)

    def clear(self) -> None:
        self._commit((), "Clear pose")

    def import_openpose(self, data, *, frame: int | None = None, replace: bool = True) -> tuple[str, ...]:
        """Load OpenPose JSON (text, bytes or decoded objects; see openpose_json) as one undo step.

        The file's canvas is scaled onto this layer's: uniformly, by the smaller factor, centred (as editors
        place a pose on a canvas of another shape). `replace` False adds the people to those already there.
        Returns the reader's notes (skipped people, frames) for the window to show."""
        from studio.document.openpose_json import loads_openpose

        parsed = loads_openpose(data, canvas_size=(self.width, self.height), frame=frame)
        scale = min(self.width / parsed.canvas_width, self.height / parsed.canvas_height)
        dx = (self.width - scale * parsed.canvas_width) / 2
        dy = (self.height - scale * parsed.canvas_height) / 2
        matrix = np.array([[scale, 0.0, dx], [0.0, scale, dy]])
        people = [p if (scale, dx, dy) == (1.0, 0.0, 0.0) else p.transformed(matrix) for p in parsed.people]
        self._commit(people if replace else [*self._people, *people], "Import pose")
        return parsed.notes

    def export_openpose(self) -> str:
        """OpenPose JSON text of the layer (canvas = document size); `import_openpose` reads it back exactly."""
        from studio.document.openpose_json import dumps_openpose

        return dumps_openpose(self._people, canvas_width=self.width, canvas_height=self.height)

    # -- people ----------------------------------------------------------------------------------
    def add_person(self, person: Person, *, label: str = "Add person") -> int:
        """Append a person; returns its index."""
        self._commit(self._people + (person,), label)
        return len(self._people) - 1

    def add_template(
        self,
        name: str,
        *,
        center: tuple[float, float] | None = None,
        height: float | None = None,
        hands: bool = False,
        face: bool = False,
    ) -> int:
        """Add a person from a built-in template (see `pose_templates.TEMPLATES`); returns its index.

        Default placement: centred, 80 % of the document height."""
        from studio.document.pose_templates import make_person

        center = (self.width / 2, self.height / 2) if center is None else center
        height = 0.8 * self.height if height is None else height
        person = make_person(name, center=center, height=height, hands=hands, face=face)
        return self.add_person(person, label=f"Add {name} person")

    def remove_person(self, index: int) -> None:
        self._person(index)
        self._commit(self._people[:index] + self._people[index + 1 :], "Delete person")

    # -- points ----------------------------------------------------------------------------------
    def move_point(self, person: int, part: str, index: int, x: float, y: float) -> None:
        """Move one keypoint to (x, y) (it becomes visible). During a drag, wrap the calls in
        `history.group(...)` so the drag is one undo step."""
        if not (math.isfinite(x) and math.isfinite(y)):
            raise PoseFormatError("Keypoint coordinates must be finite numbers.")
        current = self._person(person)
        points = current.part(part)
        if points is None:
            raise DocumentError(f"Person {person} has no {part.replace('_', ' ')}.")
        self._replace(person, current.with_part(part, points.with_point(index, x, y, True)), "Move point")

    def set_point_visible(self, person: int, part: str, index: int, visible: bool) -> None:
        """Hide or show one keypoint (a hidden point keeps its position)."""
        current = self._person(person)
        points = current.part(part)
        if points is None:
            raise DocumentError(f"Person {person} has no {part.replace('_', ' ')}.")
        x, y = points.xy[index] if 0 <= index < len(points) else (0.0, 0.0)
        label = "Show point" if visible else "Hide point"
        self._replace(person, current.with_part(part, points.with_point(index, x, y, bool(visible))), label)

    def set_part_visible(self, person: int, part: str, visible: bool) -> None:
        """Hide or show a whole part (body, a hand or the face) of one person as one undo step."""
        current = self._person(person)
        points = current.part(part)
        if points is None:
            raise DocumentError(f"Person {person} has no {part.replace('_', ' ')}.")
        shown = np.full(len(points), bool(visible))
        label = f"{'Show' if visible else 'Hide'} {part.replace('_', ' ')}"
        self._replace(person, current.with_part(part, type(points)(points.xy, shown)), label)

    # -- whole person ----------------------------------------------------------------------------
    def move_person(self, index: int, dx: float, dy: float) -> None:
        self._replace(index, self._person(index).moved(dx, dy), "Move person")

    def scale_person(self, index: int, factor: float, *, center: tuple[float, float] | None = None) -> None:
        self._replace(index, self._person(index).scaled(factor, center), "Scale person")

    def rotate_person(self, index: int, degrees: float, *, center: tuple[float, float] | None = None) -> None:
        self._replace(index, self._person(index).rotated(degrees, center), "Rotate person")

    def mirror_person(self, index: int, *, axis_x: float | None = None) -> None:
        self._replace(index, self._person(index).mirrored(axis_x), "Mirror person")

    # -- hands and face --------------------------------------------------------------------------
    def add_hands(self, index: int, which: str = "both") -> None:
        """Give the person template hands placed at the wrists along the forearms."""
        from studio.document.pose_templates import make_hand

        person = self._person(index)
        for part in self._hand_parts(which):
            person = person.with_part(part, make_hand(person, part))
        self._replace(index, person, "Add hands")

    def remove_hands(self, index: int, which: str = "both") -> None:
        person = self._person(index)
        for part in self._hand_parts(which):
            person = person.with_part(part, None)
        self._replace(index, person, "Remove hands")

    def add_face(self, index: int) -> None:
        """Give the person template face landmarks fitted to the nose, eyes and ears."""
        from studio.document.pose_templates import make_face

        person = self._person(index)
        self._replace(index, person.with_part("face", make_face(person)), "Add face")

    def remove_face(self, index: int) -> None:
        self._replace(index, self._person(index).with_part("face", None), "Remove face")

    @staticmethod
    def _hand_parts(which: str) -> tuple[str, ...]:
        if which not in HAND_SIDES:
            raise DocumentError(f"Hands must be 'left', 'right' or 'both', not {which!r}.")
        return HAND_SIDES[which]

    # -- output ----------------------------------------------------------------------------------
    def control_image(self, width: int, height: int) -> np.ndarray:
        """The ControlNet input, drawn as the ControlNet 1.1 OpenPose annotator draws (HxWx3 uint8 RGB)."""
        from studio.document.pose_render import render_people

        return render_people(self._people, canvas_size=(self.width, self.height), width=width, height=height)
