"""Time-series classification with 1D CNNs: FCN and ResNet1D (Wang, Yan & Oates 2017) and
InceptionTime (Ismail Fawaz et al. 2020) on the shared conv engine; MiniRocket (Dempster et al.
2021) on torch convolution; ``.ts``/UCR ``.tsv`` readers; class activation maps over time
(Zhou et al. 2016)."""
from .cam import class_activation_map, plot_cam
from .data import read_ts, read_ucr_tsv, to_padded
from .estimator import SignalCNNClassifier
from .minirocket import MiniRocket, MiniRocketClassifier
from .models import FCN, InceptionNet, InceptionTime, ResNet1D, build_model

__all__ = [
    "SignalCNNClassifier",
    "MiniRocket",
    "MiniRocketClassifier",
    "read_ts",
    "read_ucr_tsv",
    "to_padded",
    "FCN",
    "ResNet1D",
    "InceptionNet",
    "InceptionTime",
    "build_model",
    "class_activation_map",
    "plot_cam",
]
