"""Options shared by the training-path tests on text."""

TEXT_OPTIONS = {"backbone_options": {"max_length": 48}}  # short sequences keep fine-tuning tests fast
