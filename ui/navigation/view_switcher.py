"""The view switcher: every view of the window's centre as a button, grouped (Design, Training, Experiments,
Playground), in lines that wrap so that none is ever out of sight, and the same views as actions for the View
menu, each with its shortcut.

A view not built yet is a :class:`~ui.common.lazy_view.LazyView` stand-in: its button and action are there from
the start, and follow the view when it takes the stand-in's place.

The centre keeps its :class:`~PySide6.QtWidgets.QTabWidget` (``window.views``), whose tab bar the switcher
replaces: a tab bar scrolls the tabs it has no room for out of sight, the switcher wraps them. Choosing a view
anywhere (a button, a menu action, ``views.setCurrentWidget`` from code) checks its button and its action.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QResizeEvent
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QTabWidget, QToolButton, QVBoxLayout, QWidget

from ui.common.flow_layout import FlowLayout
from ui.common.lazy_view import LazyView

#: The groups of the centre's views, in the switcher's order.
GROUPS = ("Design", "Training", "Experiments", "Playground")
#: Shortcuts of the views, in the switcher's order: Alt+1 … Alt+9, Alt+0.
VIEW_SHORTCUTS = tuple(f"Alt+{digit}" for digit in "1234567890")
#: The most lines the switcher takes with its groups' captions; narrower, thin lines part the groups instead.
MAX_CAPTIONED_LINES = 2


class ViewSwitcher(QWidget):
    """Buttons over the centre's views, one per view, under the caption of its group.

    Parameters
    ----------
    views
        The centre's tab widget; its tab bar is hidden, the switcher takes its place.
    """

    view_chosen = Signal(QWidget)
    """A view was chosen here (a button or one of :attr:`actions`)."""

    def __init__(self, views: QTabWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("viewSwitcher")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.views = views
        views.tabBar().hide()
        self._flow = FlowLayout(spacing=1, line_spacing=2)
        self._flow.setContentsMargins(6, 4, 6, 4)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(self._flow)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self._group = QActionGroup(self)
        self._group.setExclusive(True)
        #: One checkable action per view, in the switcher's order.
        self.actions_by_view: dict[QWidget, QAction] = {}
        self.buttons: dict[QWidget, QToolButton] = {}
        self.groups: dict[str, list[QWidget]] = {}
        self._captions: dict[str, QLabel] = {}
        self._separators: dict[str, QFrame] = {}
        views.currentChanged.connect(self._on_views_current_changed)

    @property
    def view_actions(self) -> list[QAction]:
        """The views' actions in the switcher's order (group by group)."""
        return [self.actions_by_view[view] for group in self.groups.values() for view in group]

    def add_view(self, view: QWidget, group: str) -> QAction:
        """Give ``view`` (already a tab of :attr:`views`) a button in ``group`` and an action; returns the action.

        Its text and tooltip are the tab's. The first ten views in the switcher's order get Alt+1 … Alt+0.
        """
        index = self.views.indexOf(view)
        if index < 0:
            raise ValueError("the view must be a tab of the centre before it gets a button")
        text = self.views.tabText(index)
        tip = self.views.tabToolTip(index) or text.replace("&&", "&")
        action = QAction(text, self)
        action.setCheckable(True)
        action.setStatusTip(f"Show the {tip} view")
        action.setToolTip(tip)
        action.triggered.connect(lambda _=False, a=action: self.show_view(self._view_of(a)))
        self._group.addAction(action)
        self.actions_by_view[view] = action
        if isinstance(view, LazyView):
            view.built.connect(self._on_lazy_view_built)
        button = QToolButton(self)
        button.setObjectName("viewButton")
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.buttons[view] = button
        members = self.groups.get(group)
        if members is None:
            members = self.groups[group] = []
            caption = QLabel(group.upper(), self)
            caption.setObjectName("viewGroup")
            caption.setProperty("keepWithNext", True)
            self._captions[group] = caption
            separator = QFrame(self)
            separator.setObjectName("viewGroupSeparator")
            separator.setFrameShape(QFrame.Shape.VLine)
            separator.setFixedSize(9, 16)
            separator.hide()
            self._separators[group] = separator
        members.append(view)
        self._relayout()
        if self.views.currentWidget() is view:
            action.setChecked(True)
        return action

    def _view_of(self, action: QAction) -> QWidget:
        return next(view for view, its in self.actions_by_view.items() if its is action)

    def _on_lazy_view_built(self, stand_in: QWidget, view: QWidget) -> None:
        """``view`` took the place of ``stand_in``: its button, action and place in its group are the view's."""
        for by_view in (self.actions_by_view, self.buttons):  # in place, in the same order
            items = [(view if v is stand_in else v, value) for v, value in by_view.items()]
            by_view.clear()
            by_view.update(items)
        for members in self.groups.values():
            members[:] = [view if v is stand_in else v for v in members]

    def show_view(self, view: QWidget) -> None:
        """Bring ``view`` to the front of the centre."""
        self.views.setCurrentWidget(view)
        self.view_chosen.emit(view)

    def step(self, offset: int) -> None:
        """Show the view ``offset`` places after the current one in the switcher's order (wrapping round)."""
        order = [view for group in self.groups.values() for view in group]
        current = self.views.currentWidget()
        index = order.index(current) if current in order else -1
        self.show_view(order[(index + offset) % len(order)])

    def line_count(self) -> int:
        """The lines the buttons take at the switcher's width."""
        return self._flow.line_count()

    def _relayout(self) -> None:
        while self._flow.takeAt(0) is not None:
            pass
        order = 0
        for number, group in enumerate(self.groups):
            members = self.groups[group]
            if number:
                self._flow.addWidget(self._separators[group])
            self._flow.addWidget(self._captions[group])
            for view in members:
                self._flow.addWidget(self.buttons[view])
                action = self.actions_by_view[view]
                shortcut = VIEW_SHORTCUTS[order] if order < len(VIEW_SHORTCUTS) else ""
                action.setShortcut(QKeySequence(shortcut))
                order += 1
        self._show_captions_if_room(self.width())

    def captions_shown(self) -> bool:
        """Whether the groups' captions are shown (else thin lines part the groups)."""
        return not any(caption.isHidden() for caption in self._captions.values())

    def _show_captions_if_room(self, width: int) -> None:
        """Caption each group while the buttons and captions take at most two lines at ``width``; beyond that
        part the groups with thin lines, so that the views keep their height in a narrow centre."""
        spacious = set(self._captions.values()) | set(self.buttons.values())
        room = self._flow.line_count_for(width, spacious) <= MAX_CAPTIONED_LINES
        for caption in self._captions.values():
            caption.setVisible(room)
        first = next(iter(self.groups), None)
        for group, separator in self._separators.items():
            separator.setVisible(not room and group != first)
        self._flow.invalidate()
        self.updateGeometry()

    def resizeEvent(self, event: QResizeEvent) -> None:
        if event.size().width() != event.oldSize().width():
            self._show_captions_if_room(event.size().width())
        super().resizeEvent(event)

    def _on_views_current_changed(self, index: int) -> None:
        action = self.actions_by_view.get(self.views.widget(index))
        if action is not None:
            action.setChecked(True)
