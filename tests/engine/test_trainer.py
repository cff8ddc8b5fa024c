"""The trainer: events, determinism, stop / pause / step, divergence, early stopping, statistics (their budget and
their values: tests/engine/test_probes.py)."""

import dataclasses
import threading

import numpy as np
import pytest

import dllab
from dllab import data
from dllab.errors import SettingsError
from dllab.parameter_block import block_of
from dllab.run_control import RunControl
from dllab.spec import SpecError
from dllab.trainer import (
    BatchEnded,
    ChangeRefused,
    Diverged,
    EpochEnded,
    Finished,
    LayerStatistics,
    Paused,
    Resumed,
    RunStarted,
    SettingsChanged,
    Stopped,
    Trainer,
    TrainingConfig,
    first_nonfinite,
)

MLP = {
    "name": "tiny",
    "input_shape": [2],
    "layers": [
        {"type": "Dense", "units": 16},
        {"type": "ReLU"},
        {"type": "Dense", "units": 16},
        {"type": "Sigmoid"},
        {"type": "Dense", "units": 3, "init": "xavier"},
    ],
}


@pytest.fixture(scope="module")
def spiral():
    return data.prepare(data.load_dataset("spiral", n_samples=600, seed=0), val_fraction=0.2, seed=0)


def run(spiral, seed=0, **settings):
    model = dllab.build(MLP, seed=0)
    config = TrainingConfig(
        **{
            "optimizer": "adam",
            "lr": 0.01,
            "batch_size": 32,
            "epochs": 2,
            "seed": seed,
            "stats_every": 5,
            **settings,
        }
    )
    trainer = Trainer(model, spiral, config)
    return model, trainer, list(trainer.run())


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


def test_a_run_yields_start_batches_epochs_statistics_and_finish(spiral):
    _, trainer, events = run(spiral)
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], Finished)
    start = events[0]
    assert start.train_samples == len(spiral.x_train) and start.val_samples == len(spiral.x_val)
    batches = of(events, BatchEnded)
    assert len(batches) == start.batches_per_epoch * 2 == start.total_steps
    assert [b.step for b in batches] == list(range(1, len(batches) + 1))
    epochs = of(events, EpochEnded)
    assert [e.epoch for e in epochs] == [1, 2]
    assert epochs[-1].train_loss < batches[0].loss  # it learns
    assert trainer.history == epochs
    finished = events[-1]
    assert finished.reason == "completed" and finished.test.confusion.sum() == len(spiral.x_test)
    assert 0 <= finished.test_accuracy <= 1


def test_layer_statistics_have_fixed_edges_and_complete_counts(spiral):
    model, _, events = run(spiral, stats_budget=1.0)
    stats = of(events, LayerStatistics)
    assert len(stats) >= 3
    probe_values = {layer.name: 100 * int(np.prod(layer.output_shape)) for layer in model.layers}
    for event in stats:
        assert [s.name for s in event.layers] == [layer.name for layer in model.layers]
        for layer in event.layers:
            assert layer.counts.sum() == min(
                probe_values[layer.name], len(spiral.x_train) * probe_values[layer.name] // 100
            )
            np.testing.assert_array_equal(
                layer.edges, stats[0].layers[[s.name for s in stats[0].layers].index(layer.name)].edges
            )
    first = stats[0].layers
    relu, sigmoid, dense = first[1], first[3], first[0]
    assert 0 <= relu.dead_fraction <= 1 and np.isnan(relu.saturated_fraction)
    assert 0 <= sigmoid.saturated_fraction <= 1 and sigmoid.edges[0] == 0 and sigmoid.edges[-1] == 1
    weight = dense.params[0]
    assert weight.key == "dense_1.W" and weight.norm > 0 and weight.grad_norm > 0
    assert 0 < weight.update_ratio < 1
    assert weight.counts.sum() == model.params["dense_1.W"].size


def test_statistics_come_every_stats_seconds_whatever_the_count_says(spiral):
    def statistics_steps(**settings):
        config = TrainingConfig(batch_size=32, epochs=2, stats_every=0, **settings)
        trainer = Trainer(dllab.build(MLP, seed=0), spiral, config)
        trainer.probe_budget.allows = lambda: True  # the budget has tests of its own: here only the cadence
        events = list(trainer.run())
        return events[0].batches_per_epoch, [e.step for e in of(events, LayerStatistics)]

    per_epoch, steps = statistics_steps()
    assert steps == [per_epoch, 2 * per_epoch]  # the ends of the epochs
    per_epoch, steps = statistics_steps(stats_seconds=1e-9)
    assert steps == list(range(1, 2 * per_epoch + 1))  # every batch takes longer than that


def test_an_unwatched_run_trains_the_same_with_statistics_at_the_ends_of_its_epochs_only(spiral):
    config = TrainingConfig(batch_size=32, epochs=2, stats_every=1, stats_seconds=1e-9, stats_budget=1.0)
    unwatched = config.unwatched()
    assert (unwatched.stats_every, unwatched.stats_seconds, unwatched.stats_budget) == (0, None, 0.01)
    assert dataclasses.replace(unwatched, stats_every=1, stats_seconds=1e-9, stats_budget=1.0) == config
    watched = list(Trainer(dllab.build(MLP, seed=0), spiral, config).run())
    events = list(Trainer(dllab.build(MLP, seed=0), spiral, unwatched).run())
    per_epoch = events[0].batches_per_epoch
    steps = [e.step for e in of(events, LayerStatistics)]
    assert set(steps) <= {per_epoch, 2 * per_epoch} and steps[-1] == 2 * per_epoch  # the last always comes
    assert len(of(watched, LayerStatistics)) > 2 >= len(steps)
    assert [e.loss for e in of(events, BatchEnded)] == [e.loss for e in of(watched, BatchEnded)]


def test_events_carry_copies_never_live_arrays(spiral):
    model, _, events = run(spiral, epochs=1)
    stats = of(events, LayerStatistics)[-1]
    before = model.predict(spiral.x_test)
    stats.layers[0].counts[:] = 0
    stats.layers[0].edges[:] = 0
    events[-1].test.outputs[:] = 0
    np.testing.assert_array_equal(model.predict(spiral.x_test), before)
    for layer in stats.layers:
        for p in layer.params:
            assert not np.shares_memory(p.counts, model.params[p.key])


def test_same_seed_gives_the_same_curve_digit_for_digit(spiral):
    losses = [[b.loss for b in of(run(spiral, seed=s)[2], BatchEnded)] for s in (3, 3, 4)]
    assert losses[0] == losses[1]
    assert losses[0] != losses[2]


def test_stop_takes_effect_before_the_next_batch(spiral):
    model = dllab.build(MLP, seed=0)
    trainer = Trainer(model, spiral, TrainingConfig(batch_size=16, epochs=5))
    events = []
    for event in trainer.run():
        events.append(event)
        if isinstance(event, BatchEnded) and event.step == 3:
            trainer.stop()  # the trainer's own control
    assert isinstance(events[-1], Stopped) and events[-1].step == 3
    assert len(of(events, BatchEnded)) == 3 and not of(events, Finished)


def test_a_stop_while_paused_ends_the_run_without_another_batch(spiral):
    control = RunControl()
    trainer = Trainer(dllab.build(MLP, seed=0), spiral, TrainingConfig(batch_size=16, epochs=5), control)
    control.pause()  # before the run: not even the first batch
    events = []
    for event in trainer.run():
        events.append(event)
        if isinstance(event, Paused):
            threading.Timer(0.05, control.stop).start()
    assert [type(e) for e in events] == [RunStarted, Paused, Stopped] and events[-1].step == 0


def test_pause_resume_and_single_steps_from_another_thread(spiral):
    model = dllab.build(MLP, seed=0)
    control = RunControl()
    trainer = Trainer(model, spiral, TrainingConfig(batch_size=16, epochs=1, stats_every=0), control)
    events = []
    stepped = threading.Event()
    for event in trainer.run():
        events.append(event)
        if isinstance(event, BatchEnded) and event.step == 2:
            control.pause()
        if isinstance(event, Paused) and not stepped.is_set():
            stepped.set()
            threading.Timer(0.05, control.step).start()  # exactly one more batch, then paused again
        elif isinstance(event, Paused):
            threading.Timer(0.05, control.resume).start()
    kinds = [type(e).__name__ for e in events]
    paused_at = kinds.index("Paused")
    # A paused run's statistics are those of the step it paused at, whatever stats_every says.
    assert kinds[paused_at - 1 : paused_at + 5] == [
        "LayerStatistics",
        "Paused",
        "BatchEnded",
        "LayerStatistics",
        "Paused",
        "Resumed",
    ]
    assert [events[paused_at + i].step for i in (-1, 2)] == [2, 3]
    assert [e.step for e in of(events, Paused)] == [2, 3]
    assert of(events, Resumed)[0].step == 3
    assert isinstance(events[-1], Finished)


def test_divergence_is_caught_in_its_batch_and_the_last_good_weights_kept(spiral):
    relu_only = {**MLP, "layers": [layer for layer in MLP["layers"] if layer["type"] != "Sigmoid"]}
    model = dllab.build(relu_only, seed=0)
    trainer = Trainer(model, spiral, TrainingConfig(optimizer="sgd", lr=1e12, batch_size=16, epochs=3))
    events = list(trainer.run())
    diverged = events[-1]
    assert isinstance(diverged, Diverged)
    assert not np.isfinite(diverged.loss)
    assert "learning rate" in diverged.message
    assert diverged.step == len(of(events, BatchEnded)) + 1
    assert all(np.all(np.isfinite(p)) for p in model.params.values())
    # The kept weights are the ones that still gave a finite loss.
    last_good = of(events, BatchEnded)[-1]
    assert np.isfinite(last_good.loss)


def test_early_stopping_restores_the_best_weights(spiral):
    # With a learning rate of 0 the validation loss never improves after the first epoch.
    model, trainer, events = run(spiral, optimizer="sgd", lr=0.0, epochs=10, early_stopping=2)
    finished = events[-1]
    assert finished.reason == "early stopping" and finished.epochs == 3 and finished.best_epoch == 1
    best = trainer.best_weights
    assert all(np.array_equal(best[k], v) for k, v in model.params.items())
    first = of(events, EpochEnded)[0]  # the reading is of the epoch whose weights were put back
    assert (
        finished.fit.train_error == 1 - first.train_accuracy
        and finished.fit.dev_error == 1 - first.val_accuracy
    )


def test_max_steps_and_learning_rate_schedule(spiral):
    _, _, events = run(
        spiral,
        optimizer="sgd",
        lr=0.1,
        epochs=4,
        schedule="step",
        schedule_options={"step_size": 1, "gamma": 0.5},
        max_steps=40,
    )
    batches = of(events, BatchEnded)
    assert len(batches) == 40 and events[-1].reason == "step limit"
    by_epoch = {b.epoch: b.lr for b in batches}
    assert by_epoch == pytest.approx({1: 0.1, 2: 0.05, 3: 0.025, 4: 0.0125})


def test_augmentation_runs_on_image_batches():
    shapes = data.prepare(data.load_dataset("shapes", n_samples=200, seed=0), val_fraction=0.1, seed=0)
    spec = {
        "input_shape": [1, 28, 28],
        "layers": [
            {"type": "Conv2D", "filters": 4, "kernel_size": 5},
            {"type": "ReLU"},
            {"type": "MaxPool2D"},
            {"type": "Flatten"},
            {"type": "Dense", "units": shapes.num_classes},
        ],
    }
    config = TrainingConfig(
        batch_size=50, epochs=1, augment={"shift": 2, "rotation": 10.0, "flip": False, "noise": 0.1}
    )
    events = list(Trainer(dllab.build(spec), shapes, config).run())
    assert isinstance(events[-1], Finished)


def test_mismatched_data_and_network_are_refused(spiral):
    with pytest.raises(SpecError, match="expects samples of shape 3 but the spiral samples have shape 2"):
        Trainer(dllab.build({**MLP, "input_shape": [3]}), spiral)
    two_outputs = {**MLP, "layers": [*MLP["layers"][:-1], {"type": "Dense", "units": 2}]}
    with pytest.raises(SpecError, match="ends in 2 outputs but the spiral data has 3 classes"):
        Trainer(dllab.build(two_outputs), spiral)
    with pytest.raises(ValueError, match="need images"):
        Trainer(dllab.build(MLP), spiral, TrainingConfig(augment={"shift": 2}))
    mse_two = {**two_outputs, "loss": "mse"}
    with pytest.raises(SpecError, match="3 classes"):
        Trainer(dllab.build(mse_two), spiral)
    regression = data.prepare(data.load_dataset("regression", seed=0), val_fraction=0.2, seed=0)
    wide = {**MLP, "input_shape": list(regression.input_shape), "loss": "mse"}
    with pytest.raises(SpecError, match="1 regression targets per sample but the network has 3 outputs"):
        Trainer(dllab.build(wide), regression)


def test_the_outputs_must_match_the_classes_exactly(spiral):
    """The fit rule: one output per class; more outputs than classes is refused too (it used to train)."""
    ten = {**MLP, "layers": [*MLP["layers"][:-1], {"type": "Dense", "units": 10}]}
    with pytest.raises(SpecError, match="ends in 10 outputs but the spiral data has 3 classes") as error:
        Trainer(dllab.build(ten), spiral)
    assert "\n" not in str(error.value)
    moons = data.prepare(data.load_dataset("moons", n_samples=200, seed=0), val_fraction=0.2, seed=0)
    one = {**MLP, "layers": [*MLP["layers"][:-1], {"type": "Dense", "units": 1}]}
    sigmoid = {**one, "loss": "sigmoid_binary_cross_entropy"}
    events = list(Trainer(dllab.build(sigmoid), moons, TrainingConfig(epochs=1, batch_size=50)).run())
    assert isinstance(events[-1], Finished)  # two classes, one sigmoid output: the probability of class 1
    with pytest.raises(SpecError, match="ends in 1 outputs but the moons data has 2 classes"):
        Trainer(dllab.build({**one, "loss": "mse"}), moons)  # one output fits two classes only under sigmoid
    two = {**MLP, "layers": [*MLP["layers"][:-1], {"type": "Dense", "units": 2}]}
    Trainer(dllab.build(two), moons)  # softmax over two outputs


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"optimizer": ["adam"]}, "optimizer must be a name"),
        ({"optimizer_options": [1]}, "optimizer_options must map"),
        ({"schedule_options": "step"}, "schedule_options must map"),
        ({"seed": -1}, "seed must be an integer of at least 0"),
        ({"seed": "0"}, "seed must be an integer"),
        ({"drop_last": 1}, "drop_last must be true or false"),
        ({"augment": "shift=2"}, "augment must be augmentation settings"),
        ({"histogram_bins": 10**9}, "histogram_bins must be at most"),
        ({"stats_seconds": 0}, "stats_seconds must be a positive number of seconds"),
        ({"stats_seconds": True}, "stats_seconds must be a positive number of seconds"),
    ],
)
def test_a_config_of_the_wrong_types_is_one_settings_error(values, message):
    with pytest.raises(SettingsError, match=message):
        TrainingConfig.from_dict(values)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"epochs": -1}, "epochs"),
        ({"optimizer": "nope"}, "nope"),
        ({"lr": -1.0}, "lr"),
        ({"schedule": "sometimes"}, "sometimes"),
    ],
)
def test_bad_settings_fail_in_the_constructor(setting, message):
    with pytest.raises(ValueError, match=message):
        TrainingConfig(**setting)


def test_config_round_trips_through_a_plain_dict():
    config = TrainingConfig(optimizer="momentum", optimizer_options={"momentum": 0.8}, epochs=3)
    assert TrainingConfig.from_dict(config.to_dict()) == config
    assert "human_error" not in config.to_dict()  # added later: left out at 0, so older readers read it
    rated = TrainingConfig(human_error=0.02)
    assert rated.to_dict()["human_error"] == 0.02 and TrainingConfig.from_dict(rated.to_dict()) == rated
    with pytest.raises(ValueError, match="unknown training setting"):
        TrainingConfig.from_dict({"epochz": 3})


def _relu_run(spiral, **settings):
    relu_only = {**MLP, "layers": [layer for layer in MLP["layers"] if layer["type"] != "Sigmoid"]}
    model = dllab.build(relu_only, seed=0)
    config = TrainingConfig(**{"optimizer": "sgd", "epochs": 1, "batch_size": 100, **settings})
    return model, list(Trainer(model, spiral, config).run())


def test_a_model_whose_parameters_lie_apart_trains_exactly_as_one_whose_parameters_are_one_array(spiral):
    packed, apart = dllab.build(MLP, seed=0), dllab.build(MLP, seed=0)
    for layer in apart.layers:  # each parameter an array of its own, as an unpickled model's would be
        layer.params.update({key: value.copy() for key, value in layer.params.items()})
    assert (
        block_of(list(packed.params.values())) is not None and block_of(list(apart.params.values())) is None
    )
    config = TrainingConfig(optimizer="adam", epochs=2, batch_size=32, weight_decay=0.01)
    for model in (packed, apart):
        events = list(Trainer(model, spiral, config).run())
        assert isinstance(events[-1], Finished)
    for key, value in packed.get_weights().items():
        np.testing.assert_array_equal(value, apart.get_weights()[key])


def test_an_update_that_overflows_the_weights_on_the_last_step_is_divergence(spiral):
    model, events = _relu_run(spiral, lr=1e45, max_steps=1)
    diverged = events[-1]
    assert isinstance(diverged, Diverged) and not of(events, Finished)
    assert "update of step 1" in diverged.message and "learning rate" in diverged.message
    named = next(key for key in model.params if f"made {key} not finite" in diverged.message)
    assert named.endswith(".W")  # the first parameter the update made not finite, by its name
    before = dllab.build(model.spec, seed=0)  # the weights the run started from: the last finite ones
    for key, value in model.get_weights().items():
        np.testing.assert_array_equal(value, before.get_weights()[key])
    assert np.isfinite(model.predict(spiral.x_test)).all()


def test_weights_too_large_to_measure_after_the_last_step_are_divergence(spiral):
    model, events = _relu_run(spiral, lr=1e12, max_steps=2)
    assert isinstance(events[-1], Diverged), events[-1]
    assert "measured after step 2" in events[-1].message
    assert not of(events, Finished)
    assert all(np.isfinite(p).all() for p in model.params.values())


def test_a_loss_that_is_not_finite_before_any_update_does_not_blame_the_learning_rate(spiral):
    poisoned = data.PreparedData(**{**vars(spiral), "x_train": spiral.x_train.copy()})
    poisoned.x_train[:] = np.inf  # data the loaders would refuse, given straight to the trainer
    model = dllab.build(MLP, seed=0)
    events = list(Trainer(model, poisoned, TrainingConfig(batch_size=32)).run())
    assert isinstance(events[-1], Diverged)
    assert "first step, before any update" in events[-1].message
    assert "probably too high" not in events[-1].message


# --- changes of the optimizer's settings during a run ---------------------------------------------------------


def watch(spiral, changes_at, **settings):
    """Train, asking the control for ``changes_at[step]`` (a list of changes) once ``step`` batches are done;
    returns the events and the weights after every batch, by step."""
    model = dllab.build(MLP, seed=0)
    config = TrainingConfig(
        **{"optimizer": "adam", "lr": 0.01, "batch_size": 32, "epochs": 2, "stats_every": 0, **settings}
    )
    control = RunControl()
    trainer = Trainer(model, spiral, config, control)
    events, weights = [], {}
    for event in trainer.run():
        events.append(event)
        if isinstance(event, BatchEnded):
            weights[event.step] = model.get_weights()
            for values in changes_at.get(event.step, []):
                control.change(values)
    return events, weights


def test_a_learning_rate_of_0_set_mid_run_freezes_the_weights_from_the_next_batch(spiral):
    events, weights = watch(spiral, {5: [{"lr": 0.0}]})
    _, unchanged = watch(spiral, {})
    (change,) = of(events, SettingsChanged)
    assert (change.step, change.values, change.previous, change.manual) == (
        5,
        {"lr": 0.0},
        {"lr": 0.01},
        True,
    )
    assert change.text() == "lr 0.01 → 0"
    assert events.index(change) == events.index(next(b for b in of(events, BatchEnded) if b.step == 5)) + 1
    for step in range(1, 6):  # the same run until the change
        assert all(np.array_equal(weights[step][k], unchanged[step][k]) for k in weights[step])
    last = max(weights)
    for step in range(6, last + 1):  # then not one weight moves
        assert all(np.array_equal(weights[step][k], weights[5][k]) for k in weights[5])
    assert not all(np.array_equal(unchanged[6][k], unchanged[5][k]) for k in unchanged[5])
    batches = of(events, BatchEnded)
    assert [b.lr for b in batches[:5]] == [0.01] * 5 and {b.lr for b in batches[5:]} == {0.0}
    assert isinstance(events[-1], Finished) and len(batches) == last


def test_a_refused_change_says_why_in_one_sentence_and_the_run_goes_on(spiral):
    events, _ = watch(spiral, {3: [{"lr": -1}, {"momentum": 0.5}, {"beta1": 0.5}]})
    refused = of(events, ChangeRefused)
    assert [r.message for r in refused] == [
        "the change at step 3: lr must be at least 0, got -1",
        "the change at step 3 (adam): unknown setting 'momentum' (allowed: lr, beta1, beta2, eps, "
        "weight_decay, clip_norm)",
    ]
    (change,) = of(events, SettingsChanged)  # the good one still applies
    assert change.values == {"beta1": 0.5} and change.previous == {"beta1": 0.9}
    assert isinstance(events[-1], Finished) and {b.lr for b in of(events, BatchEnded)} == {0.01}


def test_the_configs_changes_apply_at_their_steps_and_replace_the_schedule(spiral):
    changes = [{"step": 4, "lr": 0.02}, {"step": 30, "weight_decay": 0.001}]
    events, _ = watch(spiral, {}, schedule="step", schedule_options={"step_size": 1, "gamma": 0.5}, epochs=3)
    assert [e.lr for e in of(events, EpochEnded)] == [0.01, 0.005, 0.0025]  # the schedule alone
    events, _ = watch(
        spiral,
        {},
        schedule="step",
        schedule_options={"step_size": 1, "gamma": 0.5},
        epochs=3,
        changes=changes,
    )
    applied = of(events, SettingsChanged)
    assert [(c.step, c.values, c.manual) for c in applied] == [
        (4, {"lr": 0.02}, False),
        (30, {"weight_decay": 0.001}, False),
    ]
    lrs = {b.step: b.lr for b in of(events, BatchEnded)}
    assert lrs[4] == 0.01 and lrs[5] == 0.02 and lrs[max(lrs)] == 0.02  # the schedule changes it no more
    assert [e.lr for e in of(events, EpochEnded)] == [0.02, 0.02, 0.02]


def test_a_change_asked_for_while_paused_applies_at_once(spiral):
    model = dllab.build(MLP, seed=0)
    control = RunControl()
    trainer = Trainer(
        model, spiral, TrainingConfig(optimizer="sgd", lr=0.1, batch_size=32, epochs=1), control
    )
    events = trainer.run()
    while not isinstance(next(events), BatchEnded):
        pass
    control.pause()
    statistics = next(events)  # of the step paused at
    assert isinstance(statistics, LayerStatistics) and statistics.step == 1
    assert isinstance(next(events), Paused)
    control.change({"lr": 0.05})
    change = next(events)  # before any further batch
    assert isinstance(change, SettingsChanged) and change.step == 1 and change.values == {"lr": 0.05}
    control.resume()
    assert isinstance(next(events), Resumed)
    batch = next(events)
    assert isinstance(batch, BatchEnded) and batch.step == 2 and batch.lr == 0.05
    control.stop()
    events.close()


def test_a_config_with_bad_changes_is_refused():
    with pytest.raises(SettingsError, match=r"the change at step 2 \(sgd\): unknown setting 'beta1'"):
        TrainingConfig(optimizer="sgd", changes=[{"step": 2, "beta1": 0.5}])
    config = TrainingConfig(optimizer="sgd", changes=[{"step": 2, "lr": 1}])
    assert TrainingConfig.from_dict(config.to_dict()).changes == [{"step": 2, "lr": 1.0}]


def test_the_train_dev_set_is_measured_after_every_epoch_and_read_with_the_others():
    split = data.prepare(
        data.load_dataset("spiral", n_samples=600, seed=0), val_fraction=0.2, train_dev_fraction=0.2, seed=0
    )
    model, _, events = run(split, epochs=3, human_error=0.01, eval_samples=50)
    assert of(events, RunStarted)[0].train_dev_samples == len(split.x_train_dev) == 96
    epochs = of(events, EpochEnded)
    assert len(epochs) == 3
    for epoch in epochs:
        assert 0.0 <= epoch.train_dev_accuracy <= 1.0 and np.isfinite(epoch.train_dev_loss)
        assert epoch.fit.train_dev_error == pytest.approx(1 - epoch.train_dev_accuracy)
        assert epoch.fit.human_error == 0.01 and epoch.reading == epoch.fit.sentence
    # Bounded as validation is: at most eval_samples of the train-dev set, the first ones.
    first = dllab.metrics.evaluate(model, split.x_train_dev[:50], split.y_train_dev[:50])
    assert epochs[-1].train_dev_accuracy == pytest.approx(first.accuracy)
    finished = events[-1]
    assert finished.fit.test_error == pytest.approx(1 - finished.test_accuracy)
    assert finished.fit.train_error == epochs[-1].fit.train_error
    assert set(finished.fit.gaps) == {"avoidable bias", "variance", "data mismatch", "overfitting to dev"}


def test_without_a_train_dev_set_its_numbers_are_nan(spiral):
    _, _, events = run(spiral, epochs=1)
    [epoch] = of(events, EpochEnded)
    assert np.isnan(epoch.train_dev_accuracy) and "variance and data mismatch" in epoch.fit.gaps


def test_the_training_accuracy_is_measured_on_a_fixed_sample_as_large_as_the_validation_set(
    spiral, monkeypatch
):
    measured = []
    evaluate = dllab.trainer.evaluate

    def recording(model, x, y, **options):
        measured.append((x.copy(), y.copy()))
        return evaluate(model, x, y, **options)

    monkeypatch.setattr(dllab.trainer, "evaluate", recording)
    model, _, events = run(spiral, epochs=2)  # eval_samples 10,000: more than either set has
    # After each epoch: the training sample, the validation set, the train-dev set (none here); then the test set.
    (train_1, _), (val_1, _), _, (train_2, y_2), (val_2, _), _, (test, _) = measured
    assert len(spiral.x_val) == 96 < len(spiral.x_train)
    assert len(train_1) == len(val_1) == len(val_2) == 96 and len(test) == len(spiral.x_test)
    np.testing.assert_array_equal(train_1, train_2)  # the same samples every epoch
    rows = {row.tobytes() for row in spiral.x_train}
    assert all(row.tobytes() in rows for row in train_2)  # from the training set
    assert len({row.tobytes() for row in train_2}) == 96  # each sample once
    last = of(events, EpochEnded)[-1]
    assert last.train_accuracy == pytest.approx(evaluate(model, train_2, y_2).accuracy)

    measured.clear()
    run(spiral, epochs=1, eval_samples=None)  # None: the whole training set, as the book measures it
    assert len(measured[0][0]) == len(spiral.x_train)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_first_nonfinite_names_the_first_array_with_a_nan_or_an_infinity(bad):
    arrays = {"a.W": np.ones((3, 4), np.float32), "b.W": np.ones((5, 6), np.float32).T, "c.b": np.ones(2)}
    assert first_nonfinite(arrays) is None
    arrays["b.W"][4, 2] = bad  # in a transposed (not contiguous) array
    arrays["c.b"][0] = np.nan
    assert first_nonfinite(arrays) == "b.W"


def test_first_nonfinite_takes_huge_finite_values_for_finite():
    arrays = {"W": np.full(10, 1e30, np.float32), "b": np.array([np.finfo(np.float32).max, 0], np.float32)}
    assert first_nonfinite(arrays) is None  # their squares overflow, the values do not
