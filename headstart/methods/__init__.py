"""Ways of transferring, one module each, registered by name (``get_method``, ``list_methods``)."""

from headstart.methods import finetune, lora, probe, scratch  # noqa: F401  (registration)
from headstart.methods.base import Method, get_method, list_methods, register_method

__all__ = ["Method", "get_method", "list_methods", "register_method"]
