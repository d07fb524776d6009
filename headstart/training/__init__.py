"""The one training path every kind of run shares (single task, domain adaptation, multi-task).

- ``prepare``: the front of every pipeline (backbone, input check, model, probe warm start, timer);
- ``objective``: the hook a kind of run fills in (its loss on a batch, its validation score);
- ``module``: the one ``LightningModule`` (frozen groups, dropout seeds, optimiser, schedule, penalties);
- ``data``: rows (cached features or states, or raw inputs), batch samplers, the data module;
- ``callbacks``: keep-best and the freeze schedule, both saved in checkpoints;
- ``run``: ``run(model, method, objective, data)`` on Lightning's ``Trainer``.
"""
