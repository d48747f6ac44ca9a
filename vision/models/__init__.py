"""The model zoo; importing this package registers every builder."""
from vision.models import classic, googlenet, nin, resnet  # noqa: F401
from vision.models._common import ImageModel, SmallInputWarning  # noqa: F401
