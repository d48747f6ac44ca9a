"""The training loop: optimisers, schedules, constraints, early stopping, resume, distributed."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn

from seqcnn.engine.checkpoint import CheckpointError
from seqcnn.engine.device import resolve_device, seed_everything
from seqcnn.engine.train import (EarlyStop, Trainer, apply_max_norm, build_optimizer, build_scheduler,
                                 compute_class_weight, random_batches)


def _dataset(n=64, d=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long()
    return list(zip(x, y))


def _model(d=6, k=2, dropout=0.2):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(d, 16), nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, k))


@pytest.mark.parametrize("opt", ["sgd", "adam", "adamw", "adadelta"])
def test_every_optimizer_lowers_the_loss(opt):
    data = _dataset()
    tr = Trainer(optimizer=opt, lr={"sgd": 0.1, "adam": 0.01, "adamw": 0.01, "adadelta": 1.0}[opt],
                 max_epochs=15, batch_size=16, verbose=0, device="cpu")
    hist = tr.fit(_model(dropout=0.0), data)
    assert hist[-1]["train_loss"] < hist[0]["train_loss"]


def test_optimizer_defaults_follow_the_papers():
    m = _model()
    ada = build_optimizer("adadelta", m)
    assert ada.defaults["rho"] == 0.95 and ada.defaults["eps"] == 1e-6 and ada.defaults["lr"] == 1.0
    sgd = build_optimizer("sgd", m, weight_decay=5e-4, nesterov=True)
    assert sgd.defaults["momentum"] == 0.9 and sgd.defaults["nesterov"] and sgd.defaults["weight_decay"] == 5e-4


def test_frozen_parameters_are_not_optimised():
    m = _model()
    m[0].weight.requires_grad_(False)
    opt = build_optimizer("adam", m)
    ids = {id(p) for g in opt.param_groups for p in g["params"]}
    assert id(m[0].weight) not in ids


def test_bad_recipe_arguments_raise():
    with pytest.raises(ValueError, match="optimizer"):
        build_optimizer("lbfgs-ish", _model())
    with pytest.raises(ValueError, match="lr"):
        build_optimizer("adam", _model(), lr=-1)
    for kw, name in [({"max_epochs": 0}, "max_epochs"), ({"batch_size": 0}, "batch_size"),
                     ({"monitor": "test_acc"}, "monitor"), ({"amp": "int8"}, "amp"),
                     ({"schedule": "linear"}, "schedule"), ({"patience": 0}, "patience")]:
        with pytest.raises(ValueError, match=name):
            Trainer(**kw)
    with pytest.raises(ValueError, match="empty"):
        Trainer(verbose=0, device="cpu").fit(_model(), [])


def test_cuda_request_without_cuda_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device("cuda")
    assert resolve_device("auto").type == "cpu"


def test_schedules():
    m = _model()
    opt = torch.optim.SGD(m.parameters(), lr=1.0)
    sched, per_step = build_scheduler("cosine", opt, max_epochs=2, steps_per_epoch=5, warmup_epochs=1)
    assert per_step
    lrs = []
    for _ in range(10):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx(0.2) and lrs[4] == pytest.approx(1.0) and lrs[-1] < 0.1
    opt = torch.optim.SGD(m.parameters(), lr=1.0)
    sched, per_step = build_scheduler("plateau", opt, max_epochs=5, steps_per_epoch=1, patience=0)
    sched.step(1.0)
    sched.step(2.0)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1)  # ÷10 on plateau


def test_max_norm_caps_rows_only_where_exceeded():
    lin = nn.Linear(4, 3)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[3.0, 4.0, 0, 0], [0.1, 0, 0, 0], [0, 0, 6.0, 8.0]]))
    apply_max_norm(lin, {"weight": 3.0})
    norms = lin.weight.norm(dim=1)
    assert torch.allclose(norms, torch.tensor([3.0, 0.1, 3.0]), atol=1e-5)
    with pytest.raises(ValueError, match="max_norm"):
        apply_max_norm(lin, {"fc.weight": 3.0})


def test_max_norm_applied_during_training():
    tr = Trainer(optimizer="sgd", lr=5.0, max_epochs=3, batch_size=8, verbose=0, device="cpu",
                 max_norm={"3.weight": 0.5})
    m = _model()
    tr.fit(m, _dataset())
    assert m[3].weight.norm(dim=1).max() <= 0.5 + 1e-5


def test_class_weights():
    w = compute_class_weight("balanced", np.array([0, 0, 0, 1]), 2)
    assert torch.allclose(w, torch.tensor([4 / 6, 4 / 2]))
    assert compute_class_weight(None, np.array([0, 1]), 2) is None


def test_trailing_single_example_batch_is_merged():
    batches = random_batches(9, 4, False, None)
    assert [len(b) for b in batches] == [4, 5]


def test_early_stopping_restores_best_epoch():
    data = _dataset(80)
    tr = Trainer(optimizer="sgd", lr=0.05, max_epochs=30, batch_size=16, patience=2, verbose=0, device="cpu")
    m = _model()
    hist = tr.fit(m, data[:60], data[60:])
    best = min(hist, key=lambda h: h["val_loss"])
    assert tr.best_epoch == best["epoch"]
    val_loss, _ = tr.evaluate(m, data[60:])
    assert val_loss == pytest.approx(best["val_loss"], rel=1e-5)


def test_training_loss_monitor_keeps_the_lowest_training_loss_without_validation():
    # The UCR papers' protocol: no validation split, best epoch = lowest training loss.
    data = _dataset(48)
    m = _model(dropout=0.0)
    states = {}

    def snapshot(trainer, epoch, logs):
        states[epoch] = {k: v.clone() for k, v in m.state_dict().items()}

    # A large SGD step makes the training loss bounce, so the last epoch is not the best one.
    tr = Trainer(optimizer="sgd", lr=3.0, max_epochs=12, batch_size=8, monitor="train_loss", verbose=0,
                 device="cpu", callbacks=[snapshot])
    hist = tr.fit(m, data)
    best = min(hist, key=lambda h: h["train_loss"])
    assert tr.best_epoch == best["epoch"]
    for k, v in m.state_dict().items():
        assert torch.equal(v, states[best["epoch"]][k])
    # A val_* monitor without validation data tracks nothing (the old "last weights" behaviour).
    tr2 = Trainer(max_epochs=3, verbose=0, device="cpu")
    tr2.fit(_model(), data)
    assert tr2.best_epoch is None


def test_plateau_on_the_training_loss_needs_no_validation_data():
    data = _dataset(32)
    # A loss that can never improve: the schedule must halve the rate every `patience` epochs.
    def flat_loss(out, targets):
        return out.sum(dim=1) * 0.0 + 1.0

    tr = Trainer(optimizer="sgd", lr=0.01, max_epochs=6, batch_size=8, monitor="train_loss", verbose=0,
                 device="cpu", schedule="plateau", loss_fn=flat_loss,
                 schedule_kwargs={"factor": 0.5, "patience": 1, "min_lr": 0})
    hist = tr.fit(_model(dropout=0.0), data)
    lrs = [h["lr"] for h in hist]
    assert lrs[-1] < lrs[0] and all(b <= a for a, b in zip(lrs, lrs[1:]))
    with pytest.raises(ValueError, match="train_loss"):
        Trainer(monitor="loss")


@pytest.mark.parametrize("ties, expected", [("earlier", 1), ("later", 4)])
def test_ties_in_the_monitored_value_go_to_the_earlier_or_the_later_epoch(ties, expected):
    # Zero gradients: the validation accuracy is the same every epoch, a four-way tie.
    def flat_loss(out, targets):
        return out.sum(dim=1) * 0.0 + 1.0

    data = _dataset(40)
    tr = Trainer(optimizer="sgd", lr=0.1, max_epochs=4, batch_size=8, monitor="val_acc", ties=ties,
                 loss_fn=flat_loss, verbose=0, device="cpu")
    tr.fit(_model(dropout=0.0), data[:30], data[30:])
    assert tr.best_epoch == expected
    with pytest.raises(ValueError, match="ties"):
        Trainer(ties="first")


def test_callback_can_stop_training():
    def stop_at_2(trainer, epoch, logs):
        if epoch == 2:
            raise EarlyStop

    hist = Trainer(max_epochs=10, verbose=0, device="cpu", callbacks=[stop_at_2]).fit(_model(), _dataset())
    assert len(hist) == 2


def test_predict_logits_keeps_order_and_leaves_device():
    data = _dataset(37)
    m = _model()
    tr = Trainer(verbose=0, device="cpu", batch_size=5)
    logits = tr.predict_logits(m, data)
    m.eval()
    with torch.no_grad():
        ref = m(torch.stack([x for x, _ in data]))
    assert logits.device.type == "cpu" and torch.allclose(logits, ref, atol=1e-6)
    # a custom batch sampler (e.g. length buckets) may reorder; the result is in dataset order
    rev = lambda n, bs, shuffle, gen: [list(range(n))[::-1][i:i + bs] for i in range(0, n, bs)]
    assert torch.allclose(tr.predict_logits(m, data, batch_sampler=rev), ref, atol=1e-6)


def test_seed_everything_makes_runs_identical():
    def run():
        seed_everything(123)
        m = _model()
        Trainer(max_epochs=2, verbose=0, device="cpu", seed=1).fit(m, _dataset())
        return torch.cat([p.detach().flatten() for p in m.parameters()])

    assert torch.equal(run(), run())
    with pytest.raises(TypeError, match="seed"):
        seed_everything("1")
    with pytest.raises(ValueError, match="seed"):
        seed_everything(-1)


class _Interrupt(Exception):
    pass


def test_resume_after_interruption_gives_the_same_weights(tmp_path):
    """Train 4 epochs; interrupt after epoch 2; resume; same final weights as uninterrupted."""
    data, val = _dataset(64), _dataset(16, seed=1)

    def make():
        seed_everything(7)
        return _model(dropout=0.3)

    def trainer(ckpt, callbacks=()):
        return Trainer(optimizer="adam", lr=0.01, schedule="plateau", max_epochs=4, batch_size=8, verbose=0,
                       device="cpu", seed=3, checkpoint_dir=ckpt, callbacks=callbacks, restore_best=False)

    ref = make()
    trainer(None).fit(ref, data, val)

    def interrupt(tr, epoch, logs):
        if epoch == 2:
            raise _Interrupt

    m = make()
    with pytest.raises(_Interrupt):
        trainer(tmp_path / "ckpt", [interrupt]).fit(m, data, val)
    resumed = _model(dropout=0.3)  # fresh weights: everything must come from the checkpoint
    with pytest.warns(UserWarning, match="resuming"):
        hist = Trainer(optimizer="adam", lr=0.01, schedule="plateau", max_epochs=4, batch_size=8, verbose=1,
                       device="cpu", seed=3, checkpoint_dir=tmp_path / "ckpt", restore_best=False).fit(
            resumed, data, val, resume=True)
    assert [h["epoch"] for h in hist] == [1, 2, 3, 4]
    for (name, a), b in zip(ref.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name


def test_corrupt_training_checkpoint_is_named(tmp_path):
    tr = Trainer(max_epochs=1, verbose=0, device="cpu", checkpoint_dir=tmp_path / "ck")
    tr.fit(_model(), _dataset())
    (tmp_path / "ck" / "training.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="training.json"):
        Trainer(max_epochs=2, verbose=0, device="cpu", checkpoint_dir=tmp_path / "ck").fit(
            _model(), _dataset(), resume=True)


def test_aux_outputs_are_weighted():
    class Aux(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(6, 2)
            self.b = nn.Linear(6, 2)

        def forward(self, x):
            return (self.a(x), self.b(x)) if self.training else self.a(x)

    tr = Trainer(verbose=0, device="cpu", aux_weight=0.3)
    m = Aux()
    x, y = torch.randn(4, 6), torch.tensor([0, 1, 0, 1])
    loss = tr._per_sample_loss(m(x), y)
    ref = nn.functional.cross_entropy(m.a(x), y, reduction="none") + 0.3 * nn.functional.cross_entropy(
        m.b(x), y, reduction="none")
    assert torch.allclose(loss, ref)


@pytest.mark.slow
def test_torchrun_two_processes_match_single_process(tmp_path):
    """DDP on CPU (Gloo) with 2 ranks equals one process on the same global batch."""
    script = tmp_path / "ddp_run.py"
    script.write_text(textwrap.dedent("""
        import os, sys, torch, torch.nn as nn
        from seqcnn.engine.train import Trainer
        from seqcnn.engine.device import seed_everything
        g = torch.Generator().manual_seed(0)
        x = torch.randn(64, 6, generator=g); y = (x[:, 0] > 0).long()
        data = list(zip(x, y))
        seed_everything(0)
        m = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 2))
        Trainer(optimizer="sgd", lr=0.1, max_epochs=2, batch_size=16, verbose=0, device="cpu", seed=1).fit(m, data)
        if int(os.environ.get("RANK", "0")) == 0:
            torch.save({k: v for k, v in m.state_dict().items()}, sys.argv[1])
    """))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    single, multi = tmp_path / "single.pt", tmp_path / "multi.pt"
    subprocess.run([sys.executable, str(script), str(single)], check=True, env=env, timeout=300)
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29533",
                    str(script), str(multi)], check=True, env=env, timeout=300)
    a = torch.load(single, weights_only=True)
    b = torch.load(multi, weights_only=True)
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-5), k


def test_deterministic_seeding_sets_the_flags():
    try:
        seed_everything(0, deterministic=True)
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
        assert os.environ.get("CUBLAS_WORKSPACE_CONFIG")
    finally:
        torch.use_deterministic_algorithms(False)
        torch.backends.cudnn.deterministic = False


class _Conv2dNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).mean(dim=(2, 3)))


def _images(n=32):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 3, 8, 8, generator=g)
    y = (x[:, 0].mean(dim=(1, 2)) > 0).long()
    return list(zip(x, y))


def test_bf16_autocast_and_channels_last_run_on_cpu():
    hist = Trainer(max_epochs=2, batch_size=8, verbose=0, device="cpu", amp="bf16", channels_last=True).fit(
        _Conv2dNet(), _images())
    assert np.isfinite(hist[-1]["train_loss"])


def test_fp16_amp_needs_cuda():
    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    with pytest.raises(ValueError, match="fp16"):
        Trainer(max_epochs=1, verbose=0, device="cpu", amp="fp16").fit(_Conv2dNet(), _images())


needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("amp", [None, "bf16", "fp16"])
def test_cuda_training_with_amp_and_channels_last(amp):
    hist = Trainer(max_epochs=3, batch_size=8, verbose=0, device="cuda", amp=amp, channels_last=True,
                   optimizer="sgd", lr=0.1).fit(_Conv2dNet(), _images(64))
    assert hist[-1]["train_loss"] < hist[0]["train_loss"]


@pytest.mark.gpu
@needs_cuda
def test_cuda_compile_and_predict_moves_outputs_to_cpu():
    m = _Conv2dNet()
    tr = Trainer(max_epochs=1, batch_size=8, verbose=0, device="cuda", compile=True)
    tr.fit(m, _images())
    logits = tr.predict_logits(m, _images())
    assert logits.device.type == "cpu" and logits.shape == (32, 2)


def test_precise_bn_replaces_running_stats_by_the_exact_average():
    from seqcnn.engine.train import recalibrate_batchnorm

    bn_net = nn.Sequential(nn.Linear(6, 4), nn.BatchNorm1d(4)).eval()
    x = torch.randn(40, 6)
    assert recalibrate_batchnorm(bn_net, [(x[:20],), (x[20:],)]) == 1
    with torch.no_grad():
        h = bn_net[0](x)
    assert torch.allclose(bn_net[1].running_mean, h.mean(0), atol=1e-5)
    assert bn_net[1].momentum == 0.1 and not bn_net.training  # mode restored
    assert recalibrate_batchnorm(_model(), [(x,)]) == 0


def test_trainer_precise_bn_option_runs_after_training():
    bn_net = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    data = _dataset(64)
    Trainer(max_epochs=2, batch_size=16, verbose=0, device="cpu", precise_bn=True).fit(bn_net, data)
    x = torch.stack([d[0] for d in data])
    with torch.no_grad():
        h = bn_net[0](x)
    assert torch.allclose(bn_net[1].running_mean, h.mean(0), atol=1e-5)


def test_precise_bn_epoch_mode_validates_with_exact_statistics():
    bn_net = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    data = _dataset(64)
    seen = []

    def spy(trainer, epoch, logs):
        x = torch.stack([d[0] for d in data[:48]])
        with torch.no_grad():
            seen.append(torch.allclose(bn_net[1].running_mean, bn_net[0](x).mean(0), atol=1e-5))

    Trainer(max_epochs=2, batch_size=16, verbose=0, device="cpu", precise_bn="epoch", restore_best=False,
            callbacks=[spy]).fit(bn_net, data[:48], data[48:])
    assert seen == [True, True]
    with pytest.raises(ValueError, match="precise_bn"):
        Trainer(precise_bn="always")
