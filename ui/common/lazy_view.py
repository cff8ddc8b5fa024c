"""A stand-in for a view that is not on the first screen: the view (and the modules it imports) is built the
first time its page is shown in sight or the first time code asks for it (:meth:`LazyView.view`), so that
starting the window builds only what the first screen shows. (A page shown out of sight, in a dock that Qt keeps
off the window behind another tabbed with it, is built when the dock is brought to the front.)

A :class:`LazyView` is a page of a :class:`~PySide6.QtWidgets.QTabWidget` (or of a
:class:`~PySide6.QtWidgets.QStackedWidget`) like any view; when it builds its view, the view takes its place there
(same index, text, tooltip and icon, still the current page if it was) and the stand-in is deleted. Whoever keys
something on the stand-in (a button, an action) follows :attr:`LazyView.built`, which is emitted once the view is
in its place and before the tab widget says that its current page changed. A stand-in that is no tab widget's or
stacked widget's page shows the view inside itself instead.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSignalBlocker, QSize, QTimer, Signal
from PySide6.QtGui import QPaintEvent, QShowEvent
from PySide6.QtWidgets import QSizePolicy, QStackedWidget, QTabWidget, QVBoxLayout, QWidget


class LazyView(QWidget):
    """A page that builds its view, with ``factory(parent)``, on first show or first :meth:`view`.

    Parameters
    ----------
    factory
        Builds the view (importing its module there, so that the import waits too); it is called once, with the
        widget that will hold the view as the parent (the tab widget, the stacked widget or the stand-in).
    name
        The object name of the stand-in (``"lazy_<name>"``), to tell them apart in tests and logs.
    minimum_size
        The stand-in's minimum size hint: the room its view will ask for, so that the layout around it does not
        change when the view is built.
    """

    built = Signal(QWidget, QWidget)
    """(the stand-in, the view): the view was built and has taken the stand-in's place."""

    def __init__(
        self,
        factory: Callable[[QWidget], QWidget],
        name: str = "",
        parent: QWidget | None = None,
        minimum_size: QSize | None = None,
    ) -> None:
        super().__init__(parent)
        self._minimum_size = minimum_size
        self.setObjectName(f"lazy_{name}" if name else "lazyView")
        self._factory: Callable[[QWidget], QWidget] | None = factory
        self._view: QWidget | None = None
        self._build_queued = False
        self.setSizePolicy(
            QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding
        )  # room to come into sight

    @property
    def is_built(self) -> bool:
        """Whether the view exists (it was shown or asked for)."""
        return self._view is not None

    @property
    def pending(self) -> bool:
        """Whether the view is still to be built (neither built nor being built now)."""
        return self._factory is not None

    def built_view(self) -> QWidget | None:
        """The view if it is built, else None (builds nothing)."""
        return self._view

    def view(self) -> QWidget:
        """The view, built now if it was not yet (and put in the stand-in's place)."""
        if self._view is not None:
            return self._view
        factory, self._factory = self._factory, None
        if factory is None:  # asked for again while its factory runs
            raise RuntimeError(f"{self.objectName()}: the view is asked for while it is being built")
        holder = _holder_of(self)
        try:
            view = factory(holder if holder is not None else self)
        except BaseException:
            self._factory = factory  # still to be built: the next show or use tries again
            raise
        self._view = view
        if isinstance(holder, QTabWidget):
            _replace_tab(holder, self, view)
        elif isinstance(holder, QStackedWidget):
            _replace_page(holder, self, view)
        else:
            layout = QVBoxLayout(self)
            layout.setContentsMargins(0, 0, 0, 0)
            layout.addWidget(view)
            view.show()  # a child added to a shown widget is shown only when told
        self.built.emit(self, view)
        if holder is not None:
            self.deleteLater()
        return view

    def minimumSizeHint(self) -> QSize:
        return self._minimum_size if self._minimum_size is not None else super().minimumSizeHint()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._build_if_in_sight()

    def paintEvent(self, event: QPaintEvent) -> None:
        # Shown out of sight (Qt keeps a dock tabbed behind another shown, off the window): built once it is in
        # sight and painted, on the next turn of the event loop rather than while Qt paints.
        super().paintEvent(event)
        if self.pending and not self._build_queued:
            self._build_queued = True
            QTimer.singleShot(0, self, self._build_if_in_sight)

    def _build_if_in_sight(self) -> None:
        self._build_queued = False
        if self.pending and self.isVisible() and not self.visibleRegion().isEmpty():
            self.view()


def _holder_of(page: QWidget) -> QTabWidget | QStackedWidget | None:
    """The tab widget whose page ``page`` is (its parent is the tab widget's stack), else the stacked widget
    whose page it is, else None."""
    stack = page.parentWidget()
    tabs = stack.parentWidget() if stack is not None else None
    if isinstance(tabs, QTabWidget) and tabs.indexOf(page) >= 0:
        return tabs
    if isinstance(stack, QStackedWidget) and stack.indexOf(page) >= 0:
        return stack
    return None


def _replace_page(stack: QStackedWidget, old: QWidget, new: QWidget) -> None:
    """Put ``new`` in ``old``'s place in ``stack`` (current if ``old`` was), as :func:`_replace_tab` does."""
    index = stack.indexOf(old)
    current = stack.currentIndex() == index
    with QSignalBlocker(stack):
        stack.insertWidget(index, new)
        if current:
            stack.setCurrentIndex(index)
        stack.removeWidget(old)


def _replace_tab(tabs: QTabWidget, old: QWidget, new: QWidget) -> None:
    """Put ``new`` in ``old``'s place in ``tabs``, current if ``old`` was, without telling anyone that the
    current page changed (it is the same view) and without showing any other page on the way."""
    index = tabs.indexOf(old)
    current = tabs.currentIndex() == index
    with QSignalBlocker(tabs):  # not the tab bar's: the tab widget's stack follows them
        tabs.insertTab(index, new, tabs.tabIcon(index), tabs.tabText(index))
        tabs.setTabToolTip(index, tabs.tabToolTip(index + 1))
        tabs.setTabWhatsThis(index, tabs.tabWhatsThis(index + 1))
        tabs.setTabEnabled(index, tabs.isTabEnabled(index + 1))
        if current:
            tabs.setCurrentIndex(index)
        tabs.removeTab(index + 1)  # no longer current: its neighbours stay hidden
