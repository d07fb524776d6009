"""Names shared by tests/test_fitted.py and tests/test_artifacts.py (the models are built in tests/conftest.py)."""

SHORT = {"backbone_options": {"max_length": 48}}  # short token windows keep these tests fast
KINDS = ["image_probe", "text_probe", "multitask", "image_baseline", "text_baseline"]
