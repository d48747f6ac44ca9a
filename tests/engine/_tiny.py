"""A tiny concrete CNN estimator used to test the engine's estimator base and training loop."""
import numpy as np
import torch
import torch.nn as nn
from sklearn.utils.validation import validate_data

from seqcnn.engine.estimator import CNNClassifierBase


class TinyConvNet(nn.Module):
    """Conv1d(1→4, k=3, same) → ReLU → global average over time → Linear. Input (N, 1, L)."""

    def __init__(self, n_classes, channels=4):
        super().__init__()
        self.conv = nn.Conv1d(1, channels, 3, padding=1)
        self.fc = nn.Linear(channels + 1, n_classes)

    def forward_features(self, x):
        h = torch.relu(self.conv(x)).mean(dim=2)  # (N, C)
        return torch.cat([h, x.mean(dim=2)], dim=1)

    def forward(self, x):
        return self.fc(self.forward_features(x))


class TinyCNNClassifier(CNNClassifierBase):
    """(N, L) float arrays → (N, 1, L); standardised with training statistics."""

    def __init__(self, channels=4, max_epochs=20, batch_size=16, lr=0.05, optimizer="adam",
                 validation_fraction=0.0, class_weight=None, device="cpu", random_state=None, verbose=0):
        self.channels = channels
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.validation_fraction = validation_fraction
        self.class_weight = class_weight
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _validate_X(self, X, *, fitting):
        return validate_data(self, X, reset=fitting, dtype=np.float32)

    def _fit_preprocessing(self, X, y_enc):
        self.mean_ = float(X.mean())
        self.std_ = float(X.std()) or 1.0

    def _make_dataset(self, X, y_enc=None):
        x = torch.from_numpy((np.asarray(X, dtype=np.float32) - self.mean_) / self.std_).unsqueeze(1)
        if y_enc is None:
            return [(xi,) for xi in x]
        y = torch.as_tensor(np.asarray(y_enc), dtype=torch.long)
        return list(zip(x, y))

    def _build_module(self, n_classes):
        return TinyConvNet(n_classes, self.channels)

    def _get_state(self):
        return {"mean": self.mean_, "std": self.std_, "n_features_in": int(self.n_features_in_)}

    def _set_state(self, state):
        self.mean_, self.std_ = state["mean"], state["std"]
        self.n_features_in_ = state["n_features_in"]
