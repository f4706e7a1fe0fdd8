"""Inception Score (Salimans et al. 2016) from classifier logits.

IS = exp(E_x KL(p(y|x) ‖ p(y))), with p(y) the marginal over the evaluated
samples. As in the original `improved-gan` code, the N samples are cut into
`num_splits` contiguous splits (boundaries at i·N // num_splits), each split
is scored with its own marginal, and the mean and np.std (ddof=0) over splits
are reported. The softmax runs over every logit given: the TF Inception graph
has 1008 outputs, and the published numbers normalize over all of them.
"""

import numpy as np
import scipy.special


def inception_score(logits: np.ndarray,
                    num_splits: int = 10) -> dict[str, float]:
  """Mean and standard deviation of the Inception Score over splits.

  Computed in float64 from log-softmax, so confident predictions whose
  softmax underflows to 0 for most classes stay exact.

  Args:
    logits: [N, C] classifier logits, N >= num_splits.
    num_splits: number of contiguous splits of the samples.

  Returns:
    {"inception_score": mean IS over splits, in [1, C],
     "inception_score_std": its standard deviation over splits}.

  Raises:
    ValueError: on a non-[N, C] or non-finite input, or N < num_splits.
  """
  logits = np.asarray(logits, np.float64)
  if logits.ndim != 2:
    raise ValueError(f"logits must be [N, C], got shape {logits.shape}")
  if not np.isfinite(logits).all():
    raise ValueError("the logits contain NaN or inf")
  if not 1 <= num_splits <= len(logits):
    raise ValueError(f"num_splits must be in [1, N = {len(logits)}], got "
                     f"{num_splits}")
  boundaries = np.arange(1, num_splits) * len(logits) // num_splits
  scores = []
  for split in np.split(logits, boundaries):
    log_p = scipy.special.log_softmax(split, axis=1)
    log_marginal = scipy.special.logsumexp(log_p, axis=0) - np.log(len(split))
    kl = np.sum(np.exp(log_p) * (log_p - log_marginal), axis=1)
    scores.append(np.exp(kl.mean()))
  return {"inception_score": float(np.mean(scores)),
          "inception_score_std": float(np.std(scores))}
