"""DANN: align domains by making features that a domain discriminator cannot tell apart."""

from __future__ import annotations

from torch import Tensor

from headstart.adapt.modules import AdversarialAlignment


class DomainAdversarialLoss(AdversarialAlignment):
    r"""Domain-adversarial loss of DANN.

    Ganin et al., "Domain-Adversarial Training of Neural Networks", JMLR 2016. With gradient
    reversal :math:`R_\lambda` and discriminator :math:`D` (source = 1, target = 0),

    .. math:: L(f_s, f_t) = \tfrac12\Big[\operatorname{mean}_{i \in s} \ell\big(D(R_\lambda f_i), 1\big)
              + \operatorname{mean}_{j \in t} \ell\big(D(R_\lambda f_j), 0\big)\Big]

    with :math:`\ell` the binary cross-entropy. Add :math:`L` to the task loss: :math:`D` descends
    it while the features, through :math:`R_\lambda`, ascend :math:`\lambda L`, driving
    :math:`D` towards chance. :math:`\lambda` follows :func:`~headstart.adapt.modules.warm_start`
    from ``lo`` to ``hi``; call ``step(progress)`` as training advances.

    Example::

        adversary = DomainAdversarialLoss(feature_dim=256)
        adversary.step(batch_index / total_batches)
        loss = task_loss + adversary(f_s, f_t)
    """

    def __init__(self, feature_dim: int, hidden: int = 1024, lo: float = 0.0, hi: float = 1.0, alpha: float = 10.0):
        super().__init__(feature_dim, hidden, lo, hi, alpha)

    def forward(self, f_s: Tensor, f_t: Tensor) -> Tensor:
        return self.domain_loss(f_s, f_t)
