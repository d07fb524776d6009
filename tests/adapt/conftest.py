"""Fixtures of the adaptation tests."""

from tests.threads import one_torch_thread as one_torch_thread  # noqa: F401  (autouse)
