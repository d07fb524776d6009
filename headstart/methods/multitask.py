"""Multi-task learning as a way of transferring: one backbone shared by several tasks, one head each.

It composes with the single-task methods rather than replacing one: the backbone is frozen
(``probe``), partly or fully fine-tuned (``finetune``) or adapted (``lora``) exactly as they say,
while every batch trains one task's head and loss. The implementation lives in
``headstart.multitask``; this module is its entry point among the methods.
"""

from headstart.multitask.api import fit_multitask
from headstart.multitask.model import MultiTaskTransferred, load_multitask
from headstart.multitask.spec import MultiTaskOptions, TaskSpec, read_tasks_file

__all__ = ["MultiTaskOptions", "MultiTaskTransferred", "TaskSpec", "fit_multitask", "load_multitask", "read_tasks_file"]
