"""Domain adaptation: losses to add to the task loss so features transfer to an unlabelled target.

Each algorithm is one ``nn.Module`` called as ``loss(f_s, f_t)`` (CDAN also takes the classifier's
logits: ``loss(f_s, f_t, logits_s, logits_t)``) returning a scalar to add to the task loss.
"""

from headstart.adapt.cdan import ConditionalDomainAdversarialLoss, entropy_weights
from headstart.adapt.coral import CoralLoss
from headstart.adapt.dann import DomainAdversarialLoss
from headstart.adapt.metrics import proxy_a_distance
from headstart.adapt.mmd import MultipleKernelMMD
from headstart.adapt.modules import DomainDiscriminator, GaussianKernels, GradientReversal, warm_start

__all__ = [
    "ConditionalDomainAdversarialLoss",
    "CoralLoss",
    "DomainAdversarialLoss",
    "DomainDiscriminator",
    "GaussianKernels",
    "GradientReversal",
    "MultipleKernelMMD",
    "entropy_weights",
    "proxy_a_distance",
    "warm_start",
]
