"""Options shared by the fine-tuning tests on text."""

TEXT_OPTIONS = {"backbone_options": {"max_length": 48}}  # short sequences keep fine-tuning tests fast
