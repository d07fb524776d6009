"""Data in: readers for image folders, audio folders and tables, text tables and arrays; the catalogue of real datasets;
splits and K-shot sampling."""

from headstart.data.audio import AUDIO_EXTENSIONS, SAMPLE_RATE, load_audio, read_audio, read_audio_folder, read_audio_table
from headstart.data.catalogue import catalogue_names, list_datasets, load_dataset
from headstart.data.dataset import Dataset, Modality, Task, content_hash
from headstart.data.images import IMAGE_EXTENSIONS, load_image
from headstart.data.readers import (
    encode_labels,
    from_arrays,
    read_image_folder,
    read_table,
    require_labels,
)
from headstart.data.sources import load_data, read_inputs
from headstart.data.splits import sample_shots, stratified_split

__all__ = [
    "AUDIO_EXTENSIONS",
    "SAMPLE_RATE",
    "IMAGE_EXTENSIONS",
    "Dataset",
    "Modality",
    "Task",
    "catalogue_names",
    "content_hash",
    "encode_labels",
    "from_arrays",
    "list_datasets",
    "load_data",
    "load_dataset",
    "load_audio",
    "load_image",
    "read_audio",
    "read_audio_folder",
    "read_audio_table",
    "read_image_folder",
    "read_inputs",
    "read_table",
    "require_labels",
    "sample_shots",
    "stratified_split",
]
