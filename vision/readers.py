"""Image readers and image-array validation — kept under their old names; the code lives in
:mod:`seqcnn.data.images` (the one data layer)."""
from seqcnn.data.images import (IMAGE_EXTENSIONS, _numeric, _open, as_image_array, load_image,  # noqa: F401
                                read_image_folder, read_mnist_csv, read_mnist_idx)

__all__ = ["read_image_folder", "read_mnist_idx", "read_mnist_csv", "as_image_array", "load_image",
           "IMAGE_EXTENSIONS"]
