"""Domain adaptation: transfer a model from a labelled source domain to an unlabelled target.

``adapt(source, target, backbone=..., method=...)`` runs one of the algorithms end to end and
returns an ordinary model (``headstart.fitted.Transferred``). The alignment losses are ``nn.Module``
losses called as ``loss(f_s, f_t)`` (CDAN also takes the classifier's logits:
``loss(f_s, f_t, logits_s, logits_t)``) returning a scalar to add to the task loss; self-training
and AdaBN are procedures (``self_training``, ``adabn``). Names are imported on first use, so that
importing the package (e.g. for the CLI) stays light.

The package itself is callable, ``headstart.adapt(source, target, ...)`` being
``headstart.adapt.adapt(source, target, ...)``: ``headstart.adapt`` names this package as soon as
any of its modules is imported, so a function of that name at the top level could not survive.
"""

import sys
import types
from typing import Any

from headstart.lazy import lazy_getattr

_EXPORTS = {
    "adapt": "headstart.adapt.api",
    "load_target": "headstart.adapt.api",
    "ALGORITHMS": "headstart.adapt.algorithms",
    "AdaptConfig": "headstart.adapt.algorithms",
    "ConditionalDomainAdversarialLoss": "headstart.adapt.cdan",
    "entropy_weights": "headstart.adapt.cdan",
    "CoralLoss": "headstart.adapt.coral",
    "DomainAdversarialLoss": "headstart.adapt.dann",
    "proxy_a_distance": "headstart.adapt.metrics",
    "MultipleKernelMMD": "headstart.adapt.mmd",
    "DomainDiscriminator": "headstart.adapt.modules",
    "GaussianKernels": "headstart.adapt.modules",
    "GradientReversal": "headstart.adapt.modules",
    "warm_start": "headstart.adapt.modules",
    "reestimate_batchnorm": "headstart.adapt.adabn",
    "select_pseudo_labels": "headstart.adapt.self_training",
    "information_maximisation": "headstart.adapt.selection",
    "selection_score": "headstart.adapt.selection",
}
__all__ = sorted(_EXPORTS)

__getattr__ = lazy_getattr(__name__, _EXPORTS)


class _CallablePackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.adapt(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
