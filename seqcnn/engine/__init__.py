"""The shared conv engine: shape arithmetic, layers and pooling, convolution as a matrix
product, summaries, the training loop, checkpoints and the scikit-learn estimator base.

This package imports nothing from ``seqcnn.text``, ``seqcnn.signal``, ``seqcnn.compare``,
``vision`` or ``baselines`` (a test pins that): everything else stands on it.
"""
from .checkpoint import (CheckpointError, OutputError, check_output_path, load_artifact, save_artifact,
                         write_run_dir)
from .device import isolated_rng, resolve_device, seed_everything, seed_worker
from .ensemble import CNNEnsemble, member_seed
from .estimator import CNNClassifierBase
from .folds import kfold_indices
from .im2col import conv_as_matmul, conv_matrix, im2col
from .registry import create_model, list_models, register_model
from .shapes import conv_output_size, conv_params, receptive_field, same_padding
from .summary import LayerRow, Summary, summary
from .train import EarlyStop, Trainer, build_optimizer, build_scheduler

__all__ = [
    "conv_output_size", "conv_params", "same_padding", "receptive_field",
    "conv_as_matmul", "conv_matrix", "im2col",
    "summary", "Summary", "LayerRow",
    "seed_everything", "seed_worker", "resolve_device",
    "Trainer", "EarlyStop", "build_optimizer", "build_scheduler",
    "save_artifact", "load_artifact", "CheckpointError", "OutputError", "check_output_path", "write_run_dir",
    "CNNClassifierBase", "CNNEnsemble", "member_seed", "isolated_rng",
    "create_model", "list_models", "register_model", "kfold_indices",
]
