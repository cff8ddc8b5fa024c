"""The main window: menus, tool bar, status bar, the dock panels and the central views.

Built in a fixed order (actions, menus, tool bar, status bar, central views, docks), as the PySide6
``dockwidgets`` example does; every dock has a stable object name so the layout is saved on exit and
restored, and its ``toggleViewAction()`` is in the View menu. ``MainWindow()`` takes no arguments: tests and
the screenshot script construct it directly.

Only what the first screen shows is built at start (the Architecture and Dataset views, the panels). Every other
view of the centre (:data:`TRAINING_VIEWS`, :data:`DEFERRED_VIEWS`) is a :class:`ui.common.lazy_view.LazyView`
stand-in with its button in the switcher and its action in the View menu, and is built, its module imported
then, the first time it is shown or its attribute is asked for (``window.search_view`` builds the Search view):
the view takes the stand-in's place in ``window.views``, and its signals (``window_closing`` → ``shutdown``, the
Runs view's requests) are connected when it is built, so that closing shuts down only the views that exist. The
six training views are built together, at the latest when a run starts, so that each sees the whole run.
``window.lazy_views`` holds the stand-ins by attribute (``pending`` until built).

Files, models, autosave and recovery live in :class:`ui.design.documents.DocumentController` (``window.documents``).
The actions that open a user's file (a design, an example, a model, a run's model) call it through
:meth:`MainWindow._reporting_errors`, so a damaged file is told in a dialog as the engine's sentence
(:func:`ui.common.dialogs.report_user_errors`) even where the controller lets its error through.

Training: the :class:`ui.training.controller.TrainingController` (``window.training``) answers the state's
``train_requested`` / ``stop_requested`` signals, runs the training in a process of its own and feeds the training
views (:mod:`ui.training.views`), which are in the centre beside the architecture and the data set
(:meth:`MainWindow.add_view` adds more). The view switcher over the centre (``window.view_switcher``,
:mod:`ui.navigation.view_switcher`) shows every view as a button under its group, and the View menu lists the same
actions; the welcome page (:mod:`ui.navigation.welcome`) opens on the first launch and from Help ▸ Concepts.
While a run trains the design is locked; :attr:`MainWindow.window_closing`
is emitted before the window closes, and stops a running training cleanly.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from PySide6.QtCore import QByteArray, QEvent, QSignalBlocker, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QIcon, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QSizePolicy,
    QTabWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

import dllab
from dllab.experiments.chapters import CHAPTERS, COURSE_TOPICS, BookExperiment, experiments_of
from ui.commands import InsertLayerCommand, MoveLayerCommand, RemoveLayerCommand, duplicate_layer
from ui.common import dialogs, settings, theme
from ui.common.icons import action_icon, app_icon
from ui.common.lazy_view import LazyView
from ui.common.paths import EXPERIMENTS_DIR, course_experiments, example_networks
from ui.common.plot_reserve import PlotReserve
from ui.data.panel import DataPanel
from ui.data.view import DatasetView
from ui.design.architecture_view import ArchitectureView
from ui.design.documents import DocumentController, read_network_file
from ui.design.inspector import Inspector
from ui.design.network_panel import NetworkPanel
from ui.design.palette import LayerPalette
from ui.inspect.draw_panel import DrawPanel
from ui.inspect.unit_dialog import UnitDialog
from ui.navigation.view_switcher import ViewSwitcher
from ui.navigation.welcome import Card, Section, WelcomePage
from ui.state import DEFAULT_SPEC, AppState, default_layer
from ui.training.controller import TrainingController
from ui.training.panel import TrainingPanel
from ui.training.runs_panel import RunsPanel

if TYPE_CHECKING:  # the views not on the first screen are imported when they are built
    from ui.common.view import TrainingView
    from ui.experiments.compare_view import CompareView
    from ui.experiments.distributions_view import DistributionsView
    from ui.experiments.precision_view import PrecisionView
    from ui.experiments.run_browser import RunBrowserView
    from ui.experiments.search_view import SearchView
    from ui.experiments.transfer_dialog import TransferDialog
    from ui.playground.view import PlaygroundView
    from ui.training.session import SessionStarted

DEFAULT_SIZE = QSize(1400, 900)
STARTUP_EXAMPLE = "spiral_mlp.json"
STARTUP_DATASET = "spiral"
#: The book's MNIST networks the welcome page offers as a way to start (titles in the book's catalogue).
BOOK_MNIST_NETWORKS = (
    ("TwoLayerNet", "Training TwoLayerNet (ReLU) with backpropagation"),
    ("SimpleConvNet", "Training SimpleConvNet; its filters before and after"),
)

#: The training views in tab order: attribute, tab text, tooltip (the view's title where it is not the tab's
#: text). Built together, the first time one of them is shown or asked for or a run starts.
TRAINING_VIEWS = (
    ("curves_view", "Curves", ""),
    ("activations_view", "Activations", ""),
    ("weights_view", "Weights", "Weights & gradients"),
    ("filters_view", "Filters", ""),
    ("boundary_view", "Boundary", "Decision boundary"),
    ("evaluation_view", "Evaluation", ""),
)
#: Their attributes, in tab order.
TRAINING_VIEW_NAMES = tuple(name for name, _, _ in TRAINING_VIEWS)
#: The other views not on the first screen, in tab order: attribute, tab text, tooltip, group. Each is built
#: the first time it is shown or asked for (``window.search_view``), with :meth:`MainWindow._build_<attribute>`.
DEFERRED_VIEWS = (
    ("compare_view", "Compare", "Compare runs", "Experiments"),
    ("search_view", "Search", "Hyperparameter search", "Experiments"),
    ("distributions_view", "Init", "Activation distributions by initial weights", "Experiments"),
    ("precision_view", "Precision", "Precision: float64, float32, float16", "Experiments"),
    ("run_browser", "Runs", "", "Experiments"),
    ("playground_view", "Playground", "Optimizer playground", "Playground"),
)

#: The least room that the centre's views take: the largest of their minimum sizes (the Filters view's width, the
#: Runs view's height). The stand-ins of the views not built yet ask for it, so that the window is laid out at
#: start as it is once they are built, and no panel moves when one is built.
VIEWS_MINIMUM_SIZE = QSize(404, 310)


#: The status bar's word for a run that is ending (see :attr:`ui.training.controller.Progress.state`).
RUN_ENDING = {"stopping": "Stopping…", "evaluating": "Evaluating on the test set…"}


V = TypeVar("V", bound=QWidget)


class _CentreView(Generic[V]):
    """A view not on the first screen as the window's attribute of the same name (``window.search_view``): the
    view, built now if it is not yet (:meth:`MainWindow._view`)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, window: MainWindow | None, owner: type | None = None) -> V:
        if window is None:  # asked of the class (help(), documentation tools): the attribute itself
            return self  # type: ignore[return-value]
        return window._view(self.name)


class MainWindow(QMainWindow):
    """The dllab lab window."""

    window_closing = Signal()
    """The window is about to close (after the user agreed): stop background work."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.setWindowIcon(app_icon())
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks
            | QMainWindow.DockOption.AllowTabbedDocks
            | QMainWindow.DockOption.AllowNestedDocks
        )
        self.state = AppState(self._startup_spec(), self)
        self.documents = DocumentController(self.state, self)
        #: Plots made while the window is idle, for the views a run lays out (filled once the window shows).
        self.plot_reserve = PlotReserve(self)
        self.plot_reserve.install()

        self._create_actions()
        self._create_menus()
        self._create_tool_bar()
        self._create_status_bar()
        self._create_views()
        self._create_docks()
        self._connect_state()

        self.resize(DEFAULT_SIZE)
        self._apply_default_dock_sizes()
        self._default_layout = self.saveState(settings.LAYOUT_VERSION)
        self._restore_layout()

        self.data_panel.select_source(STARTUP_DATASET)
        self.state.mark_unchanged()  # the first data set is part of the starting design, not a change
        self._update_title()
        self._update_edit_actions()
        QTimer.singleShot(0, self.documents.offer_recovery)

    # --- construction ----------------------------------------------------------------------------------------

    @staticmethod
    def _startup_spec() -> dict[str, Any]:
        for path in example_networks():
            if path.name == STARTUP_EXAMPLE:
                try:
                    return read_network_file(path)
                except dialogs.USER_ERRORS:  # a damaged example: start with the default network
                    break
        return DEFAULT_SPEC

    def _action(
        self,
        text: str,
        slot: Callable[..., Any] | None = None,
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
        icon: str | None = None,
        tip: str = "",
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if icon:
            action.setIcon(action_icon(icon))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        if slot is not None:
            action.triggered.connect(slot)
        return action

    def _reporting_errors(self, title: str, open_file: Callable[..., Any], *args: Any) -> Callable[..., None]:
        """A slot for an action that calls ``open_file(*args)`` (ignoring the signal's arguments); an error of
        a user's file that it lets through (:data:`ui.common.dialogs.USER_ERRORS`) is shown as its sentence in a
        dialog titled ``title``."""

        def slot(*_: Any) -> None:
            with dialogs.report_user_errors(self, title):
                open_file(*args)

        return slot

    def _create_actions(self) -> None:
        K = QKeySequence.StandardKey
        self.new_action = self._action(
            "&New", self.documents.new_network, K.New, "new", "Start an empty network"
        )
        self.open_action = self._action(
            "&Open Network…",
            self._reporting_errors("Cannot open network", self.documents.open_network),
            K.Open,
            "open",
            "Open a network file",
        )
        self.save_action = self._action("&Save", self.documents.save, K.Save, "save", "Save the network")
        self.save_as_action = self._action(
            "Save &As…", self.documents.save_as, K.SaveAs, tip="Save the network to a new file"
        )
        self.open_model_action = self._action(
            "Open &Model…",
            self._reporting_errors("Cannot open model", self.documents.open_model),
            "Ctrl+Shift+O",
            tip="Open a trained model (.dllab.npz) or an ONNX model (.onnx)",
        )
        self.import_book_action = self._action(
            "Import &Book Weights…",
            self._reporting_errors("Cannot import book weights", self.documents.import_book_weights),
            tip="Open the weights Deep Learning from Scratch publishes (.pkl) as a model",
        )
        self.export_npz_action = self._action(
            "dllab Model (.dllab.npz)…",
            self.documents.export_model_npz,
            tip="Save the current model with its weights",
        )
        self.export_onnx_action = self._action(
            "ONNX (.onnx)…",
            self.documents.export_model_onnx,
            tip="Export the current model for any ONNX runtime",
        )
        self.quit_action = self._action("&Quit", self.close, K.Quit, tip="Quit dllab")
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)

        self.undo_action = self.state.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(QKeySequence(K.Undo))
        self.undo_action.setIcon(action_icon("undo"))
        self.redo_action = self.state.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcuts([QKeySequence(K.Redo), QKeySequence("Ctrl+Y")])
        self.redo_action.setIcon(action_icon("redo"))
        self.delete_action = self._action(
            "&Delete Layer", self.delete_layer, K.Delete, "delete", "Remove the selected layer"
        )
        self.duplicate_action = self._action(
            "D&uplicate Layer",
            self.duplicate_layer,
            "Ctrl+D",
            "duplicate",
            "Insert a copy of the selected layer",
        )
        self.move_up_action = self._action("Move Layer &Up", lambda: self.move_layer(-1), "Alt+Up")
        self.move_down_action = self._action("Move Layer Do&wn", lambda: self.move_layer(1), "Alt+Down")

        self.train_action = self._action(
            "&Train", self._on_train_action_triggered, "F5", "train", "Train the network"
        )
        self.reset_layout_action = self._action(
            "&Reset Layout", self.reset_layout, tip="Put every panel back where it started"
        )
        self.focus_action = self._action(
            "&Focus on the Views",
            shortcut="Ctrl+Shift+F",
            tip="Hide the Layers, Network and Inspector panels so the views have the width (again: show them)",
        )
        self.focus_action.setCheckable(True)
        self.focus_action.toggled.connect(self.focus_on_views)
        self.theme_group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for key, text in (("system", "Follow &System"), ("light", "&Light"), ("dark", "&Dark")):
            action = self._action(text, lambda _=False, k=key: self.set_theme(k))
            action.setCheckable(True)
            self.theme_group.addAction(action)
            self.theme_actions[key] = action
        self.theme_actions[settings.theme_preference()].setChecked(True)

        self.concepts_action = self._action(
            "&Concepts",
            self.show_concepts,
            "F1",
            tip="The welcome page: ways to start, and the concepts of the book's chapters and the course",
        )
        self.train_spiral_action = self._action(
            "Train the &Spiral",
            self.train_spiral,
            tip="Open the spiral network on the spiral data and train it",
        )
        self.shortcuts_action = self._action(
            "&Keyboard Shortcuts", self.show_shortcuts, "Ctrl+/", tip="List the keyboard shortcuts"
        )
        self.about_action = self._action("&About dllab", self.show_about, tip="About dllab")
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.clear_recent_action = self._action("&Clear Menu", self._on_clear_recent_triggered)

    def _create_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        _add_actions(file_menu, self.new_action, self.open_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._rebuild_recent_menu)
        self._rebuild_recent_menu()
        _add_actions(
            file_menu,
            None,
            self.save_action,
            self.save_as_action,
            None,
            self.open_model_action,
            self.import_book_action,
        )
        self.export_menu = file_menu.addMenu("&Export Model")
        _add_actions(self.export_menu, self.export_npz_action, self.export_onnx_action)
        _add_actions(file_menu, None, self.quit_action)
        self.file_menu = file_menu

        edit_menu = bar.addMenu("&Edit")
        _add_actions(
            edit_menu,
            self.undo_action,
            self.redo_action,
            None,
            self.delete_action,
            self.duplicate_action,
            self.move_up_action,
            self.move_down_action,
        )
        self.edit_menu = edit_menu

        self.view_menu = bar.addMenu("&View")  # the views (_create_views), then the panels (_create_docks)

        self.examples_menu = bar.addMenu("E&xamples")
        self.example_actions = self._example_actions(self.examples_menu, example_networks(), "name")
        self.examples_menu.addSeparator()
        self.book_actions: dict[str, QAction] = {}
        for chapter, title in CHAPTERS.items():
            menu = self.examples_menu.addMenu(f"Chapter {chapter}: {title}")
            for entry in experiments_of(chapter):
                action = self._action(
                    f"{entry.title} ({entry.figure})",
                    lambda _=False, e=entry: self.open_book_experiment(e),
                    tip=f"The book: {entry.book}."
                    + (f" Command line: {entry.command}" if entry.command else ""),
                )
                menu.addAction(action)
                self.book_actions[entry.title] = action
        course = self.examples_menu.addMenu("The Course: Structuring Projects")
        self.course_actions = self._example_actions(course, course_experiments(), "description")
        course.addSeparator()
        self.transfer_action = self._action(
            "Transfer learning: digits 5-9 after 0-4…",
            self.show_transfer_experiment,
            tip="Pretrain a small convnet on digits 0-4, then learn 5-9 from 50 to 5,000 samples: from scratch, "
            "fine-tuning, frozen features. Command line: dllab transfer --data mnist",
        )
        course.addAction(self.transfer_action)

        help_menu = bar.addMenu("&Help")
        _add_actions(help_menu, self.concepts_action, self.shortcuts_action, None, self.about_action)
        self.help_menu = help_menu

    def _create_tool_bar(self) -> None:
        bar = QToolBar("Main", self)
        bar.setObjectName("toolbar_main")
        bar.setMovable(False)
        bar.setIconSize(QSize(18, 18))
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        _add_actions(
            bar,
            self.new_action,
            self.open_action,
            self.save_action,
            None,
            self.undo_action,
            self.redo_action,
            None,
            self.delete_action,
            self.duplicate_action,
        )
        spacer = QWidget(bar)
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        bar.addAction(self.train_action)
        train_button = bar.widgetForAction(self.train_action)
        if isinstance(train_button, QToolButton):
            train_button.setObjectName("trainToolButton")
            train_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.addToolBar(bar)
        self.tool_bar = bar

    def _create_status_bar(self) -> None:
        status = self.statusBar()
        self.dataset_label = QLabel(status)
        self.dataset_label.setObjectName("hint")
        self.readiness_label = QLabel(status)
        self.readiness_label.setTextFormat(Qt.TextFormat.RichText)
        status.addPermanentWidget(self.dataset_label)
        status.addPermanentWidget(self.readiness_label)

    def _create_views(self) -> None:
        self.views = QTabWidget(self)
        self.views.setObjectName("views")
        self.views.setDocumentMode(True)
        self.view_switcher = ViewSwitcher(self.views, self)
        self.architecture_view = ArchitectureView(self.state, self.views)
        self.dataset_view = DatasetView(self.state, self.views)
        self.add_view(self.architecture_view, "Architecture", group="Design")
        self.add_view(self.dataset_view, "Dataset", group="Design")
        #: The stand-ins of the views not built yet, by attribute (they are built on first show or use).
        self.lazy_views: dict[str, LazyView] = {}
        self._training_views: list[TrainingView] | None = None
        for index, (name, title, tip) in enumerate(TRAINING_VIEWS):
            self._add_lazy_view(name, title, tip, "Training", lambda _, i=index: self.training_views[i])
        self.training = TrainingController(self.state, lambda: self.training_views, self)
        self.training.run_started.connect(self._on_training_run_started)
        self.training.run_ended.connect(self._on_training_run_ended)
        self.training.progressed.connect(self._on_training_progressed)
        self.window_closing.connect(self.training.shutdown)
        self.unit_dialog = UnitDialog(self.state, self)
        self.architecture_view.unit_clicked.connect(self.unit_dialog.show_unit)
        for name, title, tip, group in DEFERRED_VIEWS:
            self._add_lazy_view(name, title, tip, group, getattr(self, f"_build_{name}"))
        centre = QWidget(self)
        centre.setObjectName("centre")
        column = QVBoxLayout(centre)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.view_switcher)
        column.addWidget(self.views, 1)
        self.setCentralWidget(centre)
        self._fill_view_menu_with_views()

    def _fill_view_menu_with_views(self) -> None:
        """The View menu's first part: every view of the centre under its group, then the next and previous
        view (the panels follow, from :meth:`_create_docks`)."""
        switcher = self.view_switcher
        for group, members in switcher.groups.items():
            self.view_menu.addSection(group)
            for view in members:
                self.view_menu.addAction(switcher.actions_by_view[view])
        self._views_menu_end: QAction | None = self.view_menu.addSeparator()
        self.next_view_action = self._action("&Next View", lambda: switcher.step(1), tip="Show the next view")
        self.previous_view_action = self._action(
            "&Previous View", lambda: switcher.step(-1), tip="Show the previous view"
        )
        self.next_view_action.setShortcuts([QKeySequence("Ctrl+PgDown"), QKeySequence("Ctrl+Tab")])
        self.previous_view_action.setShortcuts([QKeySequence("Ctrl+PgUp"), QKeySequence("Ctrl+Shift+Tab")])
        self.view_menu.addAction(self.next_view_action)
        self.view_menu.addAction(self.previous_view_action)
        self.view_menu.addSection("Panels")

    def add_view(
        self,
        widget: QWidget,
        title: str,
        icon: QIcon | None = None,
        tip: str = "",
        group: str = "Experiments",
    ) -> int:
        """Add a view in the centre (``tip``: its tooltip) with a button under ``group`` in the view switcher
        (one of :data:`ui.navigation.view_switcher.GROUPS`); returns its index among the centre's views."""
        index = self.views.addTab(widget, icon or QIcon(), title)
        if tip:
            self.views.setTabToolTip(index, tip)
        action = self.view_switcher.add_view(widget, group)
        end = getattr(self, "_views_menu_end", None)
        if end is not None:  # a view added once the window is built: at the end of the View menu's views
            self.view_menu.insertAction(end, action)
        return index

    def _add_lazy_view(
        self, name: str, title: str, tip: str, group: str, factory: Callable[[QWidget], QWidget]
    ) -> LazyView:
        """A view in the centre that is built, by ``factory(parent)``, the first time it is shown or its
        attribute ``name`` is asked for; until then a :class:`ui.common.lazy_view.LazyView` stands in for it."""
        lazy = LazyView(factory, name, self.views, VIEWS_MINIMUM_SIZE)
        self.lazy_views[name] = lazy
        self.add_view(lazy, title.replace("&", "&&"), tip=tip, group=group)
        return lazy

    def _view(self, name: str) -> Any:
        """The view ``name`` not on the first screen (an entry of :data:`TRAINING_VIEWS` or :data:`DEFERRED_VIEWS`),
        built now if it is not yet (a training view with the others: :attr:`training_views`)."""
        if name in TRAINING_VIEW_NAMES:
            return self.training_views[TRAINING_VIEW_NAMES.index(name)]
        return self.lazy_views[name].view()

    def _built_view(self, name: str) -> Any:
        """The deferred view ``name`` if it is built, else None (builds nothing)."""
        return self.lazy_views[name].built_view()

    @property
    def training_views(self) -> list[TrainingView]:
        """The training views in tab order (:data:`TRAINING_VIEWS`), all built now if they are not yet: the
        controller asks for them when a run starts, so that they see the whole run."""
        if self._training_views is None:
            from ui.training.views import make_views

            self._training_views = make_views(self.views)
            for name in TRAINING_VIEW_NAMES:  # each takes its stand-in's place (one may be doing so now)
                if self.lazy_views[name].pending:
                    self.lazy_views[name].view()
        return self._training_views

    #: The views not on the first screen, each built the first time it is asked for (or shown).
    curves_view: _CentreView[TrainingView] = _CentreView()
    activations_view: _CentreView[TrainingView] = _CentreView()
    weights_view: _CentreView[TrainingView] = _CentreView()
    filters_view: _CentreView[TrainingView] = _CentreView()
    boundary_view: _CentreView[TrainingView] = _CentreView()
    evaluation_view: _CentreView[TrainingView] = _CentreView()
    compare_view: _CentreView[CompareView] = _CentreView()
    search_view: _CentreView[SearchView] = _CentreView()
    distributions_view: _CentreView[DistributionsView] = _CentreView()
    precision_view: _CentreView[PrecisionView] = _CentreView()
    run_browser: _CentreView[RunBrowserView] = _CentreView()
    playground_view: _CentreView[PlaygroundView] = _CentreView()

    def _build_compare_view(self, parent: QWidget) -> CompareView:
        from ui.experiments.compare_view import CompareView

        view = CompareView(self.state, parent=parent)
        self.window_closing.connect(view.shutdown)
        return view

    def _build_search_view(self, parent: QWidget) -> SearchView:
        from ui.experiments.search_view import SearchView

        view = SearchView(self.state, parent)
        self.window_closing.connect(view.shutdown)
        return view

    def _build_distributions_view(self, parent: QWidget) -> DistributionsView:
        from ui.experiments.distributions_view import DistributionsView

        return DistributionsView(parent=parent)

    def _build_precision_view(self, parent: QWidget) -> PrecisionView:
        from ui.experiments.precision_view import PrecisionView

        view = PrecisionView(self.state, parent)
        self.window_closing.connect(view.shutdown)
        return view

    def _build_run_browser(self, parent: QWidget) -> RunBrowserView:
        from ui.experiments.run_browser import RunBrowserView

        view = RunBrowserView(parent)
        view.model_open_requested.connect(self._on_runs_panel_model_open_requested)
        view.design_open_requested.connect(self.documents.open_network_file)
        view.runs_changed.connect(self.runs_panel.refresh)
        return view

    def _build_playground_view(self, parent: QWidget) -> PlaygroundView:
        from ui.playground.view import PlaygroundView

        return PlaygroundView(parent)

    def _dock(
        self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea, shortcut: str
    ) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(area, dock)
        toggle = dock.toggleViewAction()
        toggle.setShortcut(QKeySequence(shortcut))
        toggle.setStatusTip(f"Show or hide the {title} panel")
        self.view_menu.addAction(toggle)
        return dock

    def _create_docks(self) -> None:
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        self.palette_panel = LayerPalette(self)
        self.network_panel = NetworkPanel(self.state, self)
        self.inspector = Inspector(self.state, self)
        self.data_panel = DataPanel(self.state, self)
        self.training_panel = TrainingPanel(self.state, self, controller=self.training)
        self.runs_panel = RunsPanel(self)
        self.draw_panel = DrawPanel(self.state, self)

        self.dock_palette = self._dock("Layers", "dock_palette", self.palette_panel, left, "Ctrl+1")
        self.dock_network = self._dock("Network", "dock_network", self.network_panel, left, "Ctrl+2")
        self.dock_inspector = self._dock("Inspector", "dock_inspector", self.inspector, right, "Ctrl+3")
        self.dock_data = self._dock("Data", "dock_data", self.data_panel, right, "Ctrl+4")
        self.dock_training = self._dock("Training", "dock_training", self.training_panel, right, "Ctrl+5")
        self.dock_runs = self._dock("Runs", "dock_runs", self.runs_panel, right, "Ctrl+6")
        self.dock_draw = self._dock("Draw", "dock_draw", self.draw_panel, right, "Ctrl+7")
        self.splitDockWidget(self.dock_palette, self.dock_network, Qt.Orientation.Horizontal)
        self.splitDockWidget(self.dock_inspector, self.dock_training, Qt.Orientation.Vertical)
        self.tabifyDockWidget(self.dock_training, self.dock_data)
        self.tabifyDockWidget(self.dock_data, self.dock_runs)
        self.tabifyDockWidget(self.dock_runs, self.dock_draw)
        self.dock_training.raise_()
        self.view_menu.addSeparator()
        self.view_menu.addAction(self.focus_action)
        self.view_menu.addAction(self.reset_layout_action)
        self._design_docks = (self.dock_palette, self.dock_network, self.dock_inspector)
        self._docks_before_focus: list[QDockWidget] = []
        for dock in self._design_docks:
            dock.visibilityChanged.connect(self._on_design_dock_visibility_changed)
        appearance = self.view_menu.addMenu("&Appearance")
        for action in self.theme_actions.values():
            appearance.addAction(action)

        self.palette_panel.layer_activated.connect(self._on_palette_layer_activated)
        self.runs_panel.model_open_requested.connect(self._on_runs_panel_model_open_requested)
        self.runs_panel.run_open_requested.connect(self._on_runs_panel_run_open_requested)
        view = self.network_panel.view
        for action in (self.duplicate_action, self.delete_action):
            view.addAction(action)
        separator = QAction(view)
        separator.setSeparator(True)
        view.addAction(separator)
        view.addAction(self.move_up_action)
        view.addAction(self.move_down_action)
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)

    @property
    def docks(self) -> list[QDockWidget]:
        """Every dock, in View-menu order."""
        return [
            self.dock_palette,
            self.dock_network,
            self.dock_inspector,
            self.dock_data,
            self.dock_training,
            self.dock_runs,
            self.dock_draw,
        ]

    def _connect_state(self) -> None:
        s = self.state
        s.dirty_changed.connect(self._on_state_dirty_changed)
        s.document_changed.connect(self._update_title)
        s.network_changed.connect(self._on_state_network_changed)
        s.current_layer_changed.connect(self._update_edit_actions)
        s.readiness_changed.connect(self._on_state_readiness_changed)
        s.dataset_changed.connect(self._on_state_dataset_changed)
        s.model_changed.connect(self._update_edit_actions)
        s.message_posted.connect(self._on_state_message_posted)
        s.training_active_changed.connect(self._on_state_training_active_changed)
        self._on_state_readiness_changed()

    # --- layout -------------------------------------------------------------------------------------------

    def _apply_default_dock_sizes(self) -> None:
        self.resizeDocks([self.dock_palette, self.dock_network], [262, 360], Qt.Orientation.Horizontal)
        self.resizeDocks([self.dock_inspector], [356], Qt.Orientation.Horizontal)
        self.resizeDocks([self.dock_inspector, self.dock_training], [470, 380], Qt.Orientation.Vertical)

    def _restore_layout(self) -> None:
        store = settings.open_settings()
        version = store.value(settings.KEY_LAYOUT_VERSION)
        geometry = store.value(settings.KEY_GEOMETRY)
        layout = store.value(settings.KEY_STATE)
        if str(version) != str(settings.LAYOUT_VERSION):
            return
        if isinstance(geometry, QByteArray | bytes):
            self.restoreGeometry(QByteArray(geometry))
        if isinstance(layout, QByteArray | bytes):
            self.restoreState(QByteArray(layout), settings.LAYOUT_VERSION)

    def save_layout(self) -> None:
        """Store window geometry and dock positions and sizes in the settings."""
        store = settings.open_settings()
        store.setValue(settings.KEY_LAYOUT_VERSION, settings.LAYOUT_VERSION)
        store.setValue(settings.KEY_GEOMETRY, self.saveGeometry())
        store.setValue(settings.KEY_STATE, self.saveState(settings.LAYOUT_VERSION))
        store.sync()

    def focus_on_views(self, on: bool = True) -> None:
        """Hide the design panels (Layers, Network, Inspector) so the views in the centre have the width, or
        show again those that were open (``on`` False)."""
        self.focus_action.setChecked(on)  # no-op when it already is: toggled is not emitted again
        if on:
            self._docks_before_focus = [dock for dock in self._design_docks if not dock.isHidden()]
            for dock in self._docks_before_focus:
                dock.hide()
        else:
            for dock in self._docks_before_focus or self._design_docks:
                dock.show()
            self._docks_before_focus = []

    def _on_design_dock_visibility_changed(self, visible: bool) -> None:
        if visible and self.focus_action.isChecked():  # a design panel was shown: no longer focused
            with QSignalBlocker(self.focus_action):
                self.focus_action.setChecked(False)
            self._docks_before_focus = []

    def reset_layout(self) -> None:
        """Show every panel in its original place and size."""
        with QSignalBlocker(self.focus_action):
            self.focus_action.setChecked(False)
        for dock in self.docks:
            dock.setFloating(False)
        self.restoreState(self._default_layout, settings.LAYOUT_VERSION)
        for dock in self.docks:
            dock.show()
        self.dock_training.raise_()
        self._apply_default_dock_sizes()
        self.statusBar().showMessage("Layout reset.", 3000)

    def set_theme(self, preference: str) -> None:
        """Use the light or dark palette, or follow the system (``"system"``, ``"light"``, ``"dark"``)."""
        settings.set_theme_preference(preference)
        self.theme_actions[preference].setChecked(True)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            theme.apply_theme(app, preference)

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = settings.recent_files()
        for path in recent:
            self.recent_menu.addAction(
                self._action(
                    path.name,
                    self._reporting_errors("Cannot open network", self.documents.open_network_file, path),
                    tip=str(path),
                )
            )
        if recent:
            self.recent_menu.addSeparator()
        self.recent_menu.addAction(self.clear_recent_action)
        self.clear_recent_action.setEnabled(bool(recent))

    def _example_actions(self, menu: QMenu, paths: list[Path], text_key: str) -> list[QAction]:
        """An action in ``menu`` for each example file that opens it as a new design, named by its network's
        ``text_key`` (``"name"`` or ``"description"``); a damaged example is left out."""
        actions = []
        for path in paths:
            try:
                spec = read_network_file(path)
            except dialogs.USER_ERRORS:
                continue
            action = self._action(
                str(spec.get(text_key) or spec.get("name", path.stem)),
                self._reporting_errors("Cannot open example", self.documents.open_example, path),
                tip=str(spec.get("description", "")),
            )
            action.setData(path.name)
            menu.addAction(action)
            actions.append(action)
        return actions

    def show_transfer_experiment(self) -> TransferDialog:
        """Open the transfer-learning experiment (on the app's data when they are ten digit-sized classes)."""
        from ui.experiments.transfer_dialog import TransferDialog

        dialog = TransferDialog(self.state.dataset, parent=self)
        dialog.open()
        return dialog

    def open_book_experiment(self, entry: BookExperiment) -> None:
        """Open one of the book's experiments where the lab has it (:mod:`dllab.experiments.chapters`) and say
        the book's result in the status bar."""
        with dialogs.report_user_errors(self, "Cannot open the book's experiment"):
            if self._open_book_target(entry):
                self.state.post_message(f"The book's {entry.figure}: {entry.book}.")

    def _open_book_target(self, entry: BookExperiment) -> bool:
        if entry.opens == "experiment":
            return self.documents.open_example(EXPERIMENTS_DIR / entry.target)
        if entry.opens == "search":
            from dllab.experiments.presets import BOOK_SEARCH

            if not self.documents.open_experiment(BOOK_SEARCH.experiment(), BOOK_SEARCH.title):
                return False
            self.search_view.use_preset(BOOK_SEARCH)
            self.views.setCurrentWidget(self.search_view)
        elif entry.opens == "comparison":
            self.compare_view.choose_experiment(entry.target)
            self.views.setCurrentWidget(self.compare_view)
        elif entry.opens == "playground":
            playground = self.playground_view
            self.views.setCurrentWidget(playground)
            if entry.target == "derivative":
                playground.show_derivative()
                return True
            playground.set_small_multiples(False)
            if entry.target == "gradient_field":
                playground.set_function("sphere")
                playground.set_start(3.0, 4.0)  # the book's numerical_gradient(function_2, [3.0, 4.0])
                playground.set_gradient_field(True)
            else:
                playground.apply_preset(entry.target)
        elif entry.opens == "distributions":
            self.views.setCurrentWidget(self.distributions_view)
        elif entry.opens == "precision":
            self.views.setCurrentWidget(self.precision_view)
        elif entry.opens == "gradcheck":
            from ui.design.gradient_check import GradientCheckDialog

            GradientCheckDialog(self.state.spec, self).open()
        elif entry.opens == "book_weights":
            return self.documents.import_book_weights()
        return True

    def train_spiral(self) -> None:
        """Open the spiral network on the spiral data and start training it (the welcome page's first way to
        start)."""
        spiral = next((p for p in example_networks() if p.name == STARTUP_EXAMPLE), None)
        with dialogs.report_user_errors(self, "Cannot open example"):
            if spiral is None or not self.documents.open_example(spiral):
                return
        self.data_panel.select_source(STARTUP_DATASET)  # generated at once, no download
        self.state.request_training()

    def _on_runs_panel_model_open_requested(self, path: Path) -> None:
        with dialogs.report_user_errors(self, "Cannot open model"):
            self.documents.open_model_file(path)

    def _on_runs_panel_run_open_requested(self, path: Path) -> None:
        if self.run_browser.show_run(path):
            self.views.setCurrentWidget(self.run_browser)

    def _on_clear_recent_triggered(self) -> None:
        settings.clear_recent_files()
        self._rebuild_recent_menu()

    # --- edits -----------------------------------------------------------------------------------------------

    def _on_palette_layer_activated(self, type_name: str) -> None:
        self.state.undo_stack.push(
            InsertLayerCommand(self.state, len(self.state.layers), default_layer(type_name))
        )

    def delete_layer(self) -> None:
        """Remove the selected layer (one undo step)."""
        row = self.state.current_layer
        if row >= 0 and not self.state.training_active:
            self.state.undo_stack.push(RemoveLayerCommand(self.state, row))

    def duplicate_layer(self) -> None:
        """Insert a copy of the selected layer after it (one undo step)."""
        row = self.state.current_layer
        if row >= 0 and not self.state.training_active:
            self.state.undo_stack.push(duplicate_layer(self.state, row))

    def move_layer(self, step: int) -> None:
        """Move the selected layer up (-1) or down (+1)."""
        row = self.state.current_layer
        target = row + step
        if row >= 0 and 0 <= target < len(self.state.layers) and not self.state.training_active:
            self.state.undo_stack.push(MoveLayerCommand(self.state, row, target))

    def _update_edit_actions(self, *_: Any) -> None:
        row = self.state.current_layer
        count = len(self.state.layers)
        editable = not self.state.training_active
        stack = self.state.undo_stack
        self.undo_action.setEnabled(editable and stack.canUndo())
        self.redo_action.setEnabled(editable and stack.canRedo())
        for action in (
            self.new_action,
            self.open_action,
            self.open_model_action,
            self.import_book_action,
            *self.example_actions,
        ):
            action.setEnabled(editable)
        self.recent_menu.setEnabled(editable)
        self.delete_action.setEnabled(editable and row >= 0)
        self.duplicate_action.setEnabled(editable and row >= 0)
        self.move_up_action.setEnabled(editable and row > 0)
        self.move_down_action.setEnabled(editable and 0 <= row < count - 1)
        has_model = self.state.model is not None
        for action in (self.export_npz_action, self.export_onnx_action):
            action.setStatusTip(action.toolTip() if has_model else "Train the network or open a model first")

    # --- help ------------------------------------------------------------------------------------------------

    def shortcuts_html(self) -> str:
        """The keyboard shortcuts of every menu action, as an HTML table."""
        rows = []
        for menu in (self.file_menu, self.edit_menu, self.view_menu, self.help_menu):
            for action in _menu_actions(menu):
                if action.shortcut().isEmpty():
                    continue
                keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
                rows.append(
                    f"<tr><td style='padding:3px 16px 3px 0'>{html.escape(action.text().replace('&', ''))}</td>"
                    f"<td><b>{html.escape(keys)}</b></td></tr>"
                )
        rows.append("<tr><td style='padding:3px 16px 3px 0'>Train</td><td><b>F5</b></td></tr>")
        return (
            "<h3>Keyboard shortcuts</h3><table>" + "".join(dict.fromkeys(rows)) + "</table>"
            "<p>In the Network panel: drag rows to reorder, drop layers from the Layers panel where the blue "
            "line shows, right-click for more.</p>"
        )

    def show_concepts(self) -> WelcomePage:
        """Help ▸ Concepts: the welcome page, each card opening its experiment through the Examples menu's
        action."""
        book = self.book_actions
        starts = (
            Card(
                "Train the spiral",
                "Built in: no download",
                "A small network learns to tell three interleaved spirals apart, in seconds. Watch the loss fall "
                "in Curves and the decision boundary wrap round the arms in Boundary.",
                (self.train_spiral_action,),
                ("Train the spiral",),
            ),
            Card(
                "The book's MNIST networks",
                "Chapters 5 and 7: MNIST downloads once (11 MB)",
                "The two-layer network of chapter 5 and the SimpleConvNet of chapter 7 on handwritten digits, "
                "with the book's settings. Watch the test accuracy pass 95 %, and the filters form in Filters.",
                tuple(book[title] for _, title in BOOK_MNIST_NETWORKS),
                tuple(label for label, _ in BOOK_MNIST_NETWORKS),
            ),
            Card(
                "A tour of the chapters",
                "Chapters 3 to 8 and the course",
                "Every experiment of the book, from a network's first inference to half precision, each with what "
                "it shows and what to look for.",
                (),
            ),
        )
        sections = [
            Section(
                f"Chapter {chapter}: {title}",
                tuple(
                    Card(
                        entry.title, entry.figure.capitalize(), entry.concept, (book[entry.title],), ("Open",)
                    )
                    for entry in experiments_of(chapter)
                ),
            )
            for chapter, title in CHAPTERS.items()
        ]
        course = {action.data(): action for action in self.course_actions}
        course["transfer"] = self.transfer_action
        sections.append(
            Section(
                "The course: structuring projects",
                tuple(
                    Card(
                        topic.title,
                        "Examples ▸ The Course",
                        topic.concept,
                        (course[topic.target],),
                        ("Open",),
                    )
                    for topic in COURSE_TOPICS
                    if topic.target in course
                ),
            )
        )
        self.welcome_page = WelcomePage(starts, sections, self)
        self.welcome_page.open()
        return self.welcome_page

    def show_welcome_on_first_launch(self) -> WelcomePage | None:
        """Show the welcome page when this is the app's first launch (remembered in the settings)."""
        if settings.welcome_seen():
            return None
        settings.set_welcome_seen()
        return self.show_concepts()

    def show_shortcuts(self) -> None:
        """Help ▸ Keyboard Shortcuts."""
        dialogs.show_document(self, "Keyboard shortcuts", self.shortcuts_html())

    def show_about(self) -> None:
        """Help ▸ About."""
        dialogs.show_about(
            self,
            "About dllab",
            f"<h3>dllab {html.escape(dllab.__version__)}</h3>"
            "<p>A desktop laboratory for learning deep learning from scratch: stack layers, train them on real "
            "data, and watch what happens inside.</p>"
            "<p>The engine is NumPy written from scratch, in the spirit of <i>Deep Learning from Scratch</i> "
            "(O'Reilly Japan).</p><p>MIT licence.</p>",
        )

    # --- state signals -----------------------------------------------------------------------------------------

    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.state.document_name}[*] — dllab")
        self.setWindowModified(self.state.is_dirty)

    def _on_state_dirty_changed(self, dirty: bool) -> None:
        self.setWindowModified(dirty)

    def _on_state_network_changed(self) -> None:
        self._update_edit_actions()

    def _on_state_readiness_changed(self) -> None:
        blocker = self.state.training_blocker()
        active = self.state.training_active
        self.train_action.setEnabled(active or blocker is None)
        self.train_action.setToolTip(blocker or "Train the network (F5)")
        colors = theme.colors()
        if active:
            doing = RUN_ENDING.get(self.training.progress.state, "Training")
            text = f"<span style='color:{colors.accent.name()}'>●</span> {doing}"
        elif blocker is None:
            text = f"<span style='color:{colors.success.name()}'>●</span> Ready to train"
        else:
            text = f"<span style='color:{colors.error.name()}'>●</span> Cannot train"
        self.readiness_label.setText(text)
        self.readiness_label.setToolTip(blocker or "")

    def _on_state_dataset_changed(self) -> None:
        dataset = self.state.dataset
        self.dataset_label.setText(
            f"{self.state.dataset_title()} · {len(dataset.x_train):,} training samples"
            if dataset
            else "No dataset"
        )

    def _on_state_message_posted(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    def _on_train_action_triggered(self) -> None:
        if self.state.training_active:
            self.state.request_stop()
        else:
            self.state.request_training()

    def _on_state_training_active_changed(self, active: bool) -> None:
        self.plot_reserve.hold(active)
        self.train_action.setText("&Stop" if active else "&Train")
        self.train_action.setIcon(action_icon("stop" if active else "train"))
        self._update_edit_actions()

    def _on_training_run_started(self, started: SessionStarted) -> None:
        self.runs_panel.refresh_run(started.folder)
        if self.views.currentWidget() in (self.architecture_view, self.dataset_view):
            self.views.setCurrentWidget(self.curves_view)

    def _on_training_progressed(self, progress: object) -> None:
        if self.training.progress.ending:
            self._on_state_readiness_changed()

    def _on_training_run_ended(self, status: str, message: str) -> None:
        started = self.training.started
        browser = self._built_view("run_browser")  # one not built yet reads the runs when it is
        if started is None:  # it ended before its folder was made
            self.runs_panel.refresh()
            if browser is not None:
                browser.refresh()
            return
        self.runs_panel.refresh_run(started.folder)
        if browser is not None:
            browser.refresh_run(started.folder)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.plot_reserve.fill()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._on_state_readiness_changed()  # the status dot is coloured for the theme

    # --- closing -------------------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.state.training_active and not dialogs.ask_quit_while_training(self):
            event.ignore()
            return
        if not self.documents.maybe_save():
            event.ignore()
            return
        self.window_closing.emit()
        self.data_panel.shutdown()
        self.save_layout()
        self.documents.record_clean_exit()
        self.plot_reserve.clear()
        event.accept()


def _add_actions(target: QMenu | QToolBar, *actions: QAction | None) -> None:
    """Add ``actions`` to a menu or a tool bar in order, a separator for each None."""
    for action in actions:
        if action is None:
            target.addSeparator()
        else:
            target.addAction(action)


def _menu_actions(menu: QMenu) -> list[QAction]:
    actions = []
    for action in menu.actions():
        if action.menu() is not None:
            actions.extend(_menu_actions(action.menu()))
        elif not action.isSeparator():
            actions.append(action)
    return actions
