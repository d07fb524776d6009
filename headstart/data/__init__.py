"""Data in: readers for image folders, text tables and arrays; splits and K-shot sampling."""

from headstart.data.dataset import Dataset, Modality, Task, content_hash
from headstart.data.images import IMAGE_EXTENSIONS, load_image
from headstart.data.readers import (
    encode_labels,
    from_arrays,
    load_data,
    read_image_folder,
    read_table,
    require_labels,
)
from headstart.data.splits import sample_shots, stratified_split

__all__ = [
    "IMAGE_EXTENSIONS",
    "Dataset",
    "Modality",
    "Task",
    "content_hash",
    "encode_labels",
    "from_arrays",
    "load_data",
    "load_image",
    "read_image_folder",
    "read_table",
    "require_labels",
    "sample_shots",
    "stratified_split",
]
