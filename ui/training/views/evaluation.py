"""Evaluation on the test set when a run ends: the confusion matrix (a click on a cell shows those samples), a
gallery of misclassified test samples, highest loss first, with their true and predicted label and the
confidence, and the accuracy of every class: the error analysis of the book's chapter 8 and of any course.

The gallery shows all mistakes, the likely mislabelled ones (confident mistakes of the highest loss), the ones
marked mislabelled or those of one tag; beside it the error-analysis panel
(:class:`~ui.training.views.error_analysis.ErrorAnalysisPanel`) tags the chosen sample, marks it mislabelled,
and shows the share of the errors per tag and the count of each kind of mistake (a click shows its samples).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from dllab.error_analysis import likely_mislabelled
from dllab.metrics import Evaluation, Mistake, class_indices
from ui.common import theme
from ui.common.plotting import pg
from ui.common.view import TrainingView, class_color, plot_widget_background, static_plot, style_plot
from ui.common.widgets import StackingSplitter
from ui.training.session import FinalEvaluation, SessionStarted
from ui.training.views.error_analysis import ErrorAnalysisPanel

#: Samples shown in the gallery at the most.
GALLERY_LIMIT = 60
THUMBNAIL = 56
#: The view's least width, in pixels, for the gallery beside the confusion matrix; narrower, it goes under it.
SIDE_BY_SIDE_WIDTH = 720
#: More classes than this: no numbers in the cells and no tick labels.
LABELLED_CLASSES = 20
#: The gallery's filters: (data, text); one more per tag in use, its data ``"tag:<tag>"``.
GALLERY_FILTERS = (
    ("all", "All mistakes, highest loss first"),
    ("likely", "Likely mislabelled: confident mistakes"),
    ("marked", "Marked mislabelled"),
)


def confusion_image(confusion: np.ndarray, accent: QColor, background: QColor) -> np.ndarray:
    """RGBA image of a confusion matrix: each row's shares, from the background colour to the accent colour
    (square-root scaled, so a few mistakes still show)."""
    totals = np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    share = np.sqrt(confusion / totals)
    bg = np.array(background.getRgb()[:3], dtype=np.float32)
    fg = np.array(accent.getRgb()[:3], dtype=np.float32)
    rgb = bg + (fg - bg) * share[..., None]
    image = np.empty((*confusion.shape, 4), dtype=np.uint8)
    image[..., :3] = np.clip(rgb + 0.5, 0, 255)
    image[..., 3] = 255
    return image


def thumbnail(sample: np.ndarray, size: int = THUMBNAIL) -> QPixmap:
    """A raw image sample ``(C, H, W)`` (or ``(H, W)``) as a pixmap, scaled to ``size`` pixels."""
    array = np.asarray(sample, dtype=np.float32)
    if array.ndim == 3 and array.shape[0] not in (1, 3):
        array = array[:1]
    if array.ndim == 3 and array.shape[0] == 1:
        array = array[0]
    lo, hi = float(np.min(array)), float(np.max(array))
    scaled = (array - lo) / (hi - lo) if hi > lo else np.zeros_like(array)
    pixels = np.ascontiguousarray(np.clip(scaled * 255 + 0.5, 0, 255).astype(np.uint8))
    if pixels.ndim == 3:  # colour
        rgb = np.ascontiguousarray(np.transpose(pixels, (1, 2, 0)))
        image = QImage(rgb.data, rgb.shape[1], rgb.shape[0], rgb.strides[0], QImage.Format.Format_RGB888)
    else:
        image = QImage(
            pixels.data, pixels.shape[1], pixels.shape[0], pixels.strides[0], QImage.Format.Format_Grayscale8
        )
    return QPixmap.fromImage(image.copy()).scaled(
        size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation
    )


def confidence_text(probability: float) -> str:
    """``"97%"``, or ``"99.8%"`` near certainty (never a rounded-up "100%" for a mistake)."""
    return f"{probability:.0%}" if probability < 0.995 else f"{min(probability, 0.999):.1%}"


def dot(color: QColor, size: int = THUMBNAIL) -> QPixmap:
    """A coloured disc, the stand-in picture of a sample that is not an image."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawEllipse(QRectF(size * 0.25, size * 0.25, size * 0.5, size * 0.5))
    painter.end()
    return pixmap


class EvaluationView(TrainingView):
    """Confusion matrix, misclassified samples and per-class accuracy of the test set."""

    title = "Evaluation"
    export_stem = "evaluation"
    hint = (
        "The test set when the run ended. Left: the confusion matrix (rows: true class, columns: predicted) and "
        "each class's accuracy. Click a cell to see its samples; right: the mistakes, highest loss first, to tag "
        "and to mark as mislabelled; the share of the errors per tag is the most that fixing them can gain."
    )
    waiting_text = "Training… the test set is evaluated when the run ends."
    empty_text = (
        "No results yet: when a run ends, the test set's confusion matrix, the misclassified samples and each "
        "class's accuracy appear here."
    )

    exclusion_requested = Signal(tuple)
    """Leave these rows of the data set's test set out of the next run (the ones marked mislabelled)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.started: SessionStarted | None = None
        self.evaluation: Evaluation | None = None
        self.confusion: np.ndarray | None = None
        self.selected_cell: tuple[int, int] | None = None
        self.gallery_indices: list[int] = []
        self.gallery_entries: list[Mistake] = []
        self.mistakes: list[Mistake] = []
        self._cell_texts: list[pg.TextItem] = []

        host = QWidget(self)
        # Narrow, the gallery and the tags go under the matrix (and scroll in the height left to them).
        splitter = StackingSplitter(SIDE_BY_SIDE_WIDTH, beside=0.6, above=0.65, parent=host)
        self.graphics = self.canvas(splitter)
        self.matrix_plot = static_plot(self.graphics, 0, 0)
        self.matrix_plot.setAspectLocked(True)
        self.matrix_plot.invertY(True)
        self.matrix_image = pg.ImageItem(axisOrder="row-major")
        self.matrix_plot.addItem(self.matrix_image)
        self.selection = pg.QtWidgets.QGraphicsRectItem(0, 0, 1, 1)
        self.selection.setZValue(20)
        self.selection.hide()
        self.matrix_plot.addItem(self.selection)
        self.accuracy_plot = static_plot(self.graphics, 1, 0)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7)
        self.accuracy_plot.addItem(self.bars)
        layout = self.graphics.ci.layout
        layout.setRowStretchFactor(0, 3)
        layout.setRowStretchFactor(1, 1)
        self.graphics.scene().sigMouseClicked.connect(self._on_scene_mouse_clicked)

        right = QWidget(splitter)
        self.gallery_title = QLabel(right)
        self.gallery_title.setObjectName("sectionTitle")
        self.gallery_title.setWordWrap(True)
        self.gallery = QListWidget(right)
        self.gallery.setObjectName("gallery")
        self.gallery.setViewMode(QListView.ViewMode.IconMode)
        self.gallery.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
        self.gallery.setGridSize(QSize(THUMBNAIL + 34, THUMBNAIL + 40))
        self.gallery.setResizeMode(QListView.ResizeMode.Adjust)
        self.gallery.setMovement(QListView.Movement.Static)
        self.gallery.setUniformItemSizes(True)
        self.gallery.setWordWrap(True)
        self.gallery.setSelectionMode(QListWidget.SelectionMode.SingleSelection)
        self.gallery.currentItemChanged.connect(self._on_gallery_current_item_changed)
        self.filter = QComboBox(right)
        self.filter.setObjectName("galleryFilter")
        self.filter.setToolTip("Which misclassified samples the gallery shows")
        self.filter.currentIndexChanged.connect(self._on_filter_current_index_changed)
        self.panel = ErrorAnalysisPanel(right)
        self.panel.changed.connect(self._on_panel_changed)
        self.panel.pair_chosen.connect(self.select_cell)
        self.panel.exclusion_requested.connect(self.exclusion_requested)
        box = QVBoxLayout(right)
        box.setContentsMargins(8, 4, 8, 8)
        box.addWidget(self.gallery_title)
        box.addWidget(self.filter)
        box.addWidget(self.gallery, 3)
        box.addWidget(self.panel, 2)
        self.gallery.setMinimumWidth(150)
        right_scroll = QScrollArea(splitter)
        right_scroll.setWidget(right)
        right_scroll.setWidgetResizable(True)
        right_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        right_scroll.setFrameShape(QFrame.Shape.NoFrame)
        splitter.addWidget(self.graphics)
        splitter.addWidget(right_scroll)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.arrangement_changed.connect(self._on_splitter_arrangement_changed)
        self.splitter = splitter
        outer = QVBoxLayout(host)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(splitter)
        self.set_content(host)
        self.restyle()

    # --- the layout ------------------------------------------------------------------------------------------

    @property
    def stacked(self) -> bool:
        """Whether the gallery and the tags are under the confusion matrix (a narrow view), not beside it."""
        return self.splitter.stacked

    def _on_splitter_arrangement_changed(self, stacked: bool) -> None:
        self.graphics.ci.layout.setRowStretchFactor(
            0, 5 if stacked else 3
        )  # stacked, the matrix needs height

    # --- the run ---------------------------------------------------------------------------------------

    def begin_run(self, started: SessionStarted) -> None:
        self.started = started
        self.evaluation = self.confusion = None
        self.selected_cell = None
        self.gallery.clear()
        self.gallery_indices = []
        self.mistakes = []
        self.panel.clear()
        super().begin_run(started)

    def reason_not_applicable(self, started: SessionStarted) -> str | None:
        if started.task != "classification":
            return (
                "a confusion matrix needs classes; this run fits a regression (see the test loss in Curves)."
            )
        return None

    def handle_items(self, items: Sequence[Any]) -> None:
        for item in items:
            if isinstance(item, FinalEvaluation) and item.evaluation.confusion is not None:
                self.evaluation = item.evaluation
                self.confusion = item.evaluation.confusion
                self.selected_cell = None
                self.mistakes = item.evaluation.misclassified()
                if self.started is not None:
                    self.panel.load(
                        self.started.folder,
                        len(item.evaluation.labels),
                        self.mistakes,
                        self._class_names(len(self.confusion)),
                        self.started.excluded_test,
                    )
                self.panel.refresh_tables(item.evaluation.confusion_pairs())
                self._fill_filters()
                self.request_redraw()

    def end_run(self, status: str) -> None:
        if self.evaluation is None and self.applicable and self.started is not None:
            self.show_placeholder(
                "No test results: the run ended before it could be evaluated."
                if status != "failed"
                else "No test results: the run failed."
            )
        super().end_run(status)

    # --- drawing -------------------------------------------------------------------------------------------

    def redraw(self) -> None:
        evaluation, confusion, started = self.evaluation, self.confusion, self.started
        if evaluation is None or confusion is None or started is None:
            return
        colors = theme.colors()
        k = len(confusion)
        names = self._class_names(k)
        self.matrix_image.setImage(
            confusion_image(confusion, colors.accent, colors.plot_background),
            autoLevels=False,
            levels=(0, 255),
        )
        self.matrix_image.setRect(QRectF(0, 0, k, k))
        # The numbers in the cells: text items are reused from run to run (never removed from the scene).
        cells = (
            [(i, j) for i in range(k) for j in range(k) if confusion[i, j]]
            if k <= LABELLED_CLASSES and not self.stacked  # stacked, the cells are too small for numbers
            else []
        )
        while len(self._cell_texts) < len(cells):
            text = pg.TextItem("", anchor=(0.5, 0.5))
            self.matrix_plot.addItem(text)
            self._cell_texts.append(text)
        totals = np.maximum(confusion.sum(axis=1), 1)
        for n, text in enumerate(self._cell_texts):
            if n >= len(cells):
                text.hide()
                continue
            i, j = cells[n]
            count = int(confusion[i, j])
            strong = math.sqrt(count / totals[i]) > 0.55
            text.setText(f"{count}", color=QColor("#ffffff") if strong else colors.text)
            text.setPos(j + 0.5, i + 0.5)
            text.show()
        ticks = [[(i + 0.5, names[i]) for i in range(k)]] if k <= LABELLED_CLASSES else None
        for name in ("left", "bottom"):
            self.matrix_plot.getAxis(name).setTicks(ticks)
        self.matrix_plot.setRange(xRange=(0, k), yRange=(0, k), padding=0.02)
        style_plot(
            self.matrix_plot,
            left="true class",
            bottom="predicted class",
            title=f"Confusion matrix: {int(confusion.sum()):,} test samples",
        )
        per_class = evaluation.per_class_accuracy
        if per_class is not None:
            heights = np.nan_to_num(per_class) * 100
            self.bars.setOpts(
                x=np.arange(k),
                height=heights,
                width=0.7,
                brushes=[pg.mkBrush(class_color(i)) for i in range(k)],
                pens=[pg.mkPen(None)] * k,
            )
            self.accuracy_plot.getAxis("bottom").setTicks(
                [[(i, names[i]) for i in range(k)]] if k <= LABELLED_CLASSES else None
            )
            self.accuracy_plot.setYRange(max(0.0, float(np.nanmin(heights)) - 10.0), 100.0, padding=0.02)
            self.accuracy_plot.setXRange(-0.6, k - 0.4, padding=0)
            style_plot(self.accuracy_plot, left="accuracy (%)", title="Accuracy of each class")
        self._show_selection()
        self._fill_gallery()
        wrong = int(confusion.sum() - np.trace(confusion))
        self.set_status(
            f"Test accuracy <b>{evaluation.accuracy:.1%}</b> · test loss {evaluation.loss:.4g} · "
            f"{wrong:,} of {int(confusion.sum()):,} misclassified."
            + (
                f" Evaluated without the {len(started.excluded_test):,} test samples marked mislabelled."
                if started.excluded_test
                else ""
            )
        )

    def _class_names(self, k: int) -> list[str]:
        names = list(self.started.class_names) if self.started is not None else []
        return [names[i] if i < len(names) else str(i) for i in range(k)]

    def _show_selection(self) -> None:
        if self.selected_cell is None:
            self.selection.hide()
            return
        i, j = self.selected_cell
        self.selection.setRect(QRectF(j, i, 1, 1))
        self.selection.setPen(pg.mkPen(theme.colors().error, width=3))
        self.selection.show()

    def select_cell(self, true_class: int, predicted_class: int) -> list[int]:
        """Show the test samples of class ``true_class`` predicted as ``predicted_class``; returns their indices."""
        if self.confusion is None:
            return []
        k = len(self.confusion)
        if not (0 <= true_class < k and 0 <= predicted_class < k):
            return []
        self.selected_cell = (true_class, predicted_class)
        self._show_selection()
        self._fill_gallery()
        return list(self.gallery_indices)

    def clear_selection(self) -> None:
        """Back to the misclassified samples."""
        self.selected_cell = None
        self._show_selection()
        self._fill_gallery()

    def _fill_filters(self) -> None:
        """The fixed filters and one per tag in use, keeping the current choice where it still exists."""
        current = self.filter.currentData()
        analysis = self.panel.analysis
        tags = analysis.all_tags() if analysis is not None else []
        self.filter.blockSignals(True)
        self.filter.clear()
        for data, text in GALLERY_FILTERS:
            self.filter.addItem(text, data)
        for tag in tags:
            self.filter.addItem(f"Tagged “{tag}”", f"tag:{tag}")
        self.filter.setCurrentIndex(max(self.filter.findData(current), 0))
        self.filter.blockSignals(False)

    def set_filter(self, data: str) -> bool:
        """Show the mistakes of one filter (:data:`GALLERY_FILTERS`, or ``"tag:<tag>"``); False when unknown."""
        index = self.filter.findData(data)
        if index < 0:
            return False
        if index == self.filter.currentIndex():
            self.clear_selection()
        else:
            self.filter.setCurrentIndex(index)  # the slot shows its mistakes
        return True

    def _filtered_mistakes(self) -> tuple[list[Mistake], str]:
        """The mistakes the chosen filter keeps (highest loss first) and the gallery's title for them."""
        mode = self.filter.currentData() or "all"
        analysis = self.panel.analysis
        if mode == "likely":
            return likely_mislabelled(self.mistakes), "Likely mislabelled: confident mistakes"
        if mode == "marked":
            marked = analysis.mislabelled if analysis is not None else set()
            return [m for m in self.mistakes if m.index in marked], "Marked mislabelled"
        if mode.startswith("tag:"):
            tag = mode[4:]
            tagged = (
                {i for i, tags in analysis.tags.items() if tag in tags} if analysis is not None else set()
            )
            return [m for m in self.mistakes if m.index in tagged], f"Tagged “{tag}”"
        return self.mistakes, "Misclassified test samples"

    def _cell_samples(self, i: int, j: int) -> list[Mistake]:
        """The test samples of true class ``i`` predicted as ``j``, highest loss first."""
        evaluation = self.evaluation
        assert evaluation is not None
        truth, predicted, outputs = class_indices(evaluation.labels), evaluation.predicted, evaluation.outputs
        chosen = np.flatnonzero((truth == i) & (predicted == j))
        confidence = (
            outputs[chosen, j]
            if outputs.shape[1] > 1
            else np.where(j == 1, outputs[chosen, 0], 1 - outputs[chosen, 0])
        )
        losses = evaluation.sample_losses[chosen]
        order = np.argsort(-losses, kind="stable")
        return [Mistake(int(chosen[o]), i, j, float(losses[o]), float(confidence[o])) for o in order]

    def _fill_gallery(self) -> None:
        evaluation, started = self.evaluation, self.started
        current = self.gallery.currentItem()
        keep = current.data(Qt.ItemDataRole.UserRole) if current is not None else None
        self.gallery.blockSignals(True)
        self.gallery.clear()
        self.gallery_indices = []
        self.gallery_entries = []
        self.gallery.blockSignals(False)
        if evaluation is None or started is None:
            return
        names = self._class_names(len(self.confusion) if self.confusion is not None else 2)
        if self.selected_cell is None:
            chosen, what = self._filtered_mistakes()
            entries = chosen[:GALLERY_LIMIT]
            self.gallery_title.setText(
                f"{what}: {len(chosen):,}"
                + (f" (the {len(entries)} of the highest loss)" if len(chosen) > len(entries) else "")
                if self.mistakes
                else "No test sample is misclassified."
            )
        else:
            i, j = self.selected_cell
            chosen = self._cell_samples(i, j)
            entries = chosen[:GALLERY_LIMIT]
            what = "correctly classified" if i == j else f"predicted as {names[j]}"
            self.gallery_title.setText(
                f"True {names[i]}, {what}: {len(chosen):,} samples"
                + (f" (the {len(entries)} of the highest loss)" if len(chosen) > len(entries) else "")
            )
        analysis = self.panel.analysis
        images = started.image_shape is not None
        self._set_gallery_mode(images)
        self.gallery.blockSignals(True)
        for entry in entries:
            index, t, p, confidence = entry.index, entry.true, entry.predicted, entry.confidence
            tags = analysis.tags_of(index) if analysis is not None else []
            marked = analysis is not None and index in analysis.mislabelled
            flag = " ⚑" if marked else ""
            if images:
                icon = QIcon(thumbnail(np.asarray(started.test_inputs[index]).reshape(started.image_shape)))
                text = f"{names[t]} → {names[p]}{flag}\n{confidence_text(confidence)}"
            else:
                icon = QIcon(dot(class_color(p), 16))
                where = ", ".join(f"{v:.2f}" for v in np.asarray(started.test_inputs[index]).reshape(-1)[:4])
                text = f"{names[t]} → {names[p]} ({confidence_text(confidence)}) at ({where}){flag}"
            item = QListWidgetItem(icon, text)
            item.setToolTip(
                f"Test sample {index}: true {names[t]}, predicted {names[p]} with probability {confidence:.1%}, "
                f"loss {entry.loss:.3g}"
                + (f"\nTags: {', '.join(tags)}" if tags else "")
                + ("\nMarked mislabelled" if marked else "")
            )
            item.setData(Qt.ItemDataRole.UserRole, index)
            if images:
                item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter)
            self.gallery.addItem(item)
            self.gallery_indices.append(index)
            self.gallery_entries.append(entry)
            if index == keep:
                self.gallery.setCurrentItem(item)
        self.gallery.blockSignals(False)
        self._on_gallery_current_item_changed(self.gallery.currentItem(), None)

    def choose_sample(self, index: int) -> bool:
        """Make test sample ``index`` the gallery's current one (the one the panel tags); False when the gallery
        does not show it."""
        if index not in self.gallery_indices:
            return False
        self.gallery.setCurrentRow(self.gallery_indices.index(index))
        return True

    def _on_gallery_current_item_changed(self, current: QListWidgetItem | None, _previous: Any) -> None:
        row = self.gallery.row(current) if current is not None else -1
        self.panel.show_sample(self.gallery_entries[row] if 0 <= row < len(self.gallery_entries) else None)

    def _on_filter_current_index_changed(self, _index: int) -> None:
        if self.evaluation is not None:
            self.selected_cell = None
            self._show_selection()
            self._fill_gallery()

    def _on_panel_changed(self) -> None:
        self._fill_filters()
        self._fill_gallery()

    def _set_gallery_mode(self, images: bool) -> None:
        """Thumbnails in a grid for images; one line per sample, with a coloured dot, for other data."""
        if images:
            self.gallery.setViewMode(QListView.ViewMode.IconMode)
            self.gallery.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
            self.gallery.setGridSize(QSize(THUMBNAIL + 34, THUMBNAIL + 40))
            self.gallery.setWordWrap(True)
        else:
            self.gallery.setViewMode(QListView.ViewMode.ListMode)
            self.gallery.setIconSize(QSize(16, 16))
            self.gallery.setGridSize(QSize())
            self.gallery.setWordWrap(False)

    def _on_scene_mouse_clicked(self, event: Any) -> None:
        if self.confusion is None:
            return
        position: QPointF = event.scenePos()
        if not self.matrix_plot.getViewBox().sceneBoundingRect().contains(position):
            return
        point = self.matrix_plot.getViewBox().mapSceneToView(position)
        row, col = math.floor(point.y()), math.floor(point.x())
        k = len(self.confusion)
        if 0 <= row < k and 0 <= col < k:
            if self.selected_cell == (row, col):
                self.clear_selection()
            else:
                self.select_cell(row, col)

    def restyle(self) -> None:
        plot_widget_background(self.graphics)
        style_plot(self.matrix_plot, left="true class", bottom="predicted class")
        style_plot(self.accuracy_plot, left="accuracy (%)")
        if self.evaluation is not None:
            self.request_redraw()

    # --- export ----------------------------------------------------------------------------------------------

    def csv_table(self) -> tuple[list[str], list[list[Any]]]:
        if self.confusion is None or self.evaluation is None:
            return ["true_class"], []
        k = len(self.confusion)
        names = self._class_names(k)
        per_class = self.evaluation.per_class_accuracy
        header = ["true_class", *(f"predicted_{name}" for name in names), "samples", "accuracy"]
        rows = []
        for i in range(k):
            accuracy = float(per_class[i]) if per_class is not None else float("nan")
            rows.append(
                [names[i], *(int(v) for v in self.confusion[i]), int(self.confusion[i].sum()), accuracy]
            )
        return header, rows
