"""The Dataset view in the centre: a larger preview of the loaded data than the Data panel has room for."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QScrollArea, QWidget

from ui.common.scroll_panel import scroll_body
from ui.data.panel import dataset_summary
from ui.data.sample_preview import SamplePreview
from ui.state import AppState


class DatasetView(QScrollArea):
    """Title, summary and samples (and augmented samples) of the state's dataset."""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        body, layout = scroll_body(self, margins=(20, 16, 20, 16))
        self.title = QLabel(body)
        self.title.setObjectName("sectionTitle")
        self.summary = QLabel(body)
        self.summary.setObjectName("hint")
        self.summary.setWordWrap(True)
        self.preview = SamplePreview(columns=10, rows=5, parent=body)
        layout.addWidget(self.title)
        layout.addWidget(self.summary)
        layout.addWidget(self.preview)
        layout.addStretch(1)
        state.dataset_changed.connect(self._refresh)
        state.data_settings_changed.connect(self._refresh)
        self._refresh()

    def _refresh(self) -> None:
        dataset = self._state.dataset
        self.title.setText(self._state.dataset_title() if dataset else "No dataset")
        self.summary.setText(dataset_summary(dataset) if dataset else "Choose a dataset in the Data panel.")
        try:
            augmenter = self._state.make_augmenter()
        except ValueError:
            augmenter = None
        self.preview.show_dataset(dataset, augmenter)
