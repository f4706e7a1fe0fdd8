"""The ganjax side of the parity tests: runs, recordings and comparisons.

`run` trains a ganjax GAN for a few steps with `steps.train_step`; its GAN
records, in order, every latent batch, fake label batch and penalty key that
the steps draw (ordered host callbacks), and its optimizers keep each
update's gradients in their states. `train_reference` feeds the same
batches and draws to the PyTorch reference (`torch_reference`), started from
ganjax's initial variables (`torch_variables`: flattened "a/b/c" names,
PyTorch layouts), and `check_training` compares the two update by update.
"""

import dataclasses
import functools
import re
from typing import Any, Callable, Sequence

import flax
import jax
import jax.numpy as jnp
import numpy as np
import optax
import torch

from ganjax.core import gan as gan_lib
from ganjax.core import penalties
from ganjax.core import state as state_lib
from ganjax.core import steps
from tests.parity import torch_reference

Flat = dict[str, np.ndarray]

# Tolerances. The reference runs in float64, so each difference is ganjax's
# float32 error (its inputs are the same float32 numbers).
#
# A gradient element that is 0 in exact arithmetic (a bias that batch norm
# cancels; a unit whose real and fake terms cancel under the hinge or
# Wasserstein loss; a maxout piece no example selects) is float32 rounding
# in ganjax, up to ~1e-6 of its network's gradient norm. Adam divides it by
# the root of its own square, so it moves the parameter by up to the
# learning rate in a direction that the float64 reference (gradient ~1e-17)
# does not take: no float32 trajectory can match there. Such elements (a
# first-step reference gradient ≤ 1e-10 of the network's norm) are null:
# after each update the reference takes ganjax's values for them
# (`train_reference`), so that what depends on them (the batch means that a
# cancelled bias shifts, the units a maxout piece feeds) stays comparable.
#
# Measured maxima over the tests are in brackets.
# - First step: each gradient tensor within 1e-4 of its norm [1.2e-6] plus
#   1e-6 of its network's gradient norm, for a gradient that is a difference
#   of much larger terms: the output bias under the Wasserstein loss (−1 + 1
#   per example, plus the drift) has 5.6e-4 of its norm, but 1e-8 of D's,
#   and PyTorch in float32 the same. A wholly null tensor: within 1e-5 of its
#   network's gradient norm [3.8e-7]. The losses: within 1e-4 [1.1e-6].
# - Every step: the losses within 1e-4 relative [8.1e-6]; each parameter
#   within 1e-3 of the update's scale, ‖p_t − p_0‖ + lr·t·√n, its change so
#   far plus the most that Adam's nearly-sign(g) steps could have moved it
#   [9.4e-5]; the EMA of G likewise; batch-norm moving averages and
#   spectral-norm vectors within 1e-3 relative [1.3e-6]. (The PGGAN test
#   widens two of these, saying why.)

NULL = 1e-10
GRAD_RTOL = 1e-4
ROUNDING = 1e-6
NULL_GRAD = 1e-5
LOSS_RTOL = 1e-4
PARAM_RTOL = 1e-3
BUFFER_RTOL = 1e-3


def _record(draws: list[tuple[str, Any]], tag: str, value: Any) -> None:
  """Appends (tag, value as NumPy) to `draws` when the step runs."""
  jax.debug.callback(lambda v: draws.append((tag, jax.tree.map(
      np.asarray, v))), value, ordered=True)


@dataclasses.dataclass(frozen=True)
class RecordingGAN(gan_lib.GAN):
  """A GAN whose steps append ("z" or "labels", value) to `draws` for every
  latent batch and fake label batch they draw."""
  draws: list[tuple[str, Any]] = dataclasses.field(
      default_factory=list, compare=False, repr=False)

  def sample_z(self, rng, num, truncation=None):
    z = super().sample_z(rng, num, truncation)
    _record(self.draws, "z", z)
    return z

  def sample_labels(self, rng, num, real_labels=None):
    labels = super().sample_labels(rng, num, real_labels)
    if labels is not None:
      _record(self.draws, "labels", labels)
    return labels


def adam(learning_rate: float, b1: float, b2: float,
         eps: float = 1e-8) -> optax.GradientTransformation:
  """Adam as gin's `optax.adam` builds it (hyperparameters in its state)."""
  return optax.inject_hyperparams(optax.adam)(
      learning_rate=learning_rate, b1=b1, b2=b2, eps=eps)


def _keeping_gradients(inner: optax.GradientTransformation,
                       slots: int) -> optax.GradientTransformation:
  """`inner`, whose state also keeps the gradients of its last `slots`
  updates (update i in slot i mod slots): (count, kept, inner's state)."""

  def init(params):
    kept = jax.tree.map(lambda p: jnp.zeros((slots, *p.shape), p.dtype),
                        params)
    return jnp.zeros([], jnp.int32), kept, inner.init(params)

  def update(grads, state, params=None):
    count, kept, inner_state = state
    kept = jax.tree.map(lambda k, g: k.at[count % slots].set(g), kept, grads)
    updates, inner_state = inner.update(grads, inner_state, params)
    return updates, (count + 1, kept, inner_state)

  return optax.GradientTransformation(init, update)


def make_gan(*, generator, discriminator, optimizer: dict[str, float],
             loss=None, penalty=penalties.none, penalty_weight: float = 0.0,
             disc_iters: int = 1, **fields) -> RecordingGAN:
  """A RecordingGAN whose penalty records its key ("penalty") and whose
  optimizers, `adam(**optimizer)` each, keep the gradients of a step's
  updates in their states. Other fields as `gan_lib.GAN`'s (normal prior, no
  EMA by default)."""
  draws = []

  def recording_penalty(*, rng, **kwargs):
    _record(draws, "penalty", jax.random.key_data(rng))
    return penalty(rng=rng, **kwargs)

  fields = {"prior": "normal", "ema_decay": None, "ema_start_step": 0,
            **fields}
  return RecordingGAN(
      generator=generator, discriminator=discriminator, loss=loss,
      penalty=recording_penalty, penalty_weight=penalty_weight,
      g_optimizer=_keeping_gradients(adam(**optimizer), 1),
      d_optimizer=_keeping_gradients(adam(**optimizer), disc_iters),
      disc_iters=disc_iters, draws=draws, **fields)


@dataclasses.dataclass
class Run:
  """A ganjax run: the states (initial, then after each step), each step's
  metrics, per step what it drew and the gradients it applied
  ({"d": [{"z", "labels", "penalty_key", "grads"} per D update],
  "g": {"z", "labels", "grads"}}; None where not drawn), and its compiled
  step as (state, batch) → (state, metrics)."""
  states: list[state_lib.GANState]
  metrics: list[dict[str, float]]
  steps: list[dict[str, Any]]
  train_step: Callable[..., Any]


def image_batches(shape: tuple[int, ...], num: int = 5,
                  batch_size: int = 8) -> list[dict[str, np.ndarray]]:
  """`num` batches of images uniform in [-1, 1], the same every call."""
  rng = np.random.default_rng(0)
  return [{"x": rng.uniform(-1, 1, (batch_size, *shape)).astype(np.float32)}
          for _ in range(num)]


def run(gan: RecordingGAN, batches: Sequence[dict[str, np.ndarray]], *,
        example_shape: Sequence[int], seed: int = 0) -> Run:
  """`len(batches)` jitted `steps.train_step`s from `create_state`."""
  batch_size = len(batches[0]["x"]) // gan.disc_iters
  state = jax.jit(lambda: state_lib.create_state(
      gan, jax.random.key(seed), tuple(example_shape), batch_size))()
  train_step = jax.jit(functools.partial(steps.train_step, gan))
  rng = jax.random.key(seed + 1)
  states, metrics = [state], []
  for batch in batches:
    state, step_metrics = train_step(state, batch, rng)
    states.append(state)
    metrics.append(jax.tree.map(float, step_metrics))
  jax.effects_barrier()
  return Run(states, metrics,
             _per_step(gan.draws, states[1:], gan.disc_iters),
             lambda state, batch: train_step(state, batch, rng))


def _per_step(draws: list[tuple[str, Any]], states: list[state_lib.GANState],
              disc_iters: int) -> list[dict[str, Any]]:
  """The recordings by step and update (each step draws, in order, for each
  D update its labels, z and penalty key, then G's z and labels) and the
  gradients that the optimizer states kept."""
  by_tag = {}
  for tag, value in draws:
    by_tag.setdefault(tag, []).append(value)
  per_step = {"z": 1 + disc_iters, "labels": 1 + disc_iters,
              "penalty": disc_iters}
  if len(by_tag.get("penalty", [])) < disc_iters * len(states):
    # A lazy penalty draws in its due updates only; its keys stay unmatched
    # (parity runs of lazy penalties use noise-free ones, R1).
    by_tag.pop("penalty", None)
  for tag, values in by_tag.items():
    assert len(values) == per_step[tag] * len(states), (tag, len(values))
  out = []
  for s, state in enumerate(states):
    take = lambda tag, i: (by_tag[tag][s * per_step[tag] + i]
                           if tag in by_tag else None)
    d_grads, g_grads = state.d_opt_state[1], state.g_opt_state[1]
    out.append({
        "d": [{"z": take("z", i), "labels": take("labels", i),
               "penalty_key": take("penalty", i),
               "grads": flatten(jax.tree.map(lambda g, i=i: g[i], d_grads))}
              for i in range(disc_iters)],
        "g": {"z": take("z", disc_iters),
              "labels": take("labels", disc_iters),
              "grads": flatten(jax.tree.map(lambda g: g[0], g_grads))}})
  return out


def flatten(tree: Any) -> Flat:
  """{"a/b/c": array} of a nested dict of arrays."""
  return {k: np.asarray(v, np.float64) for k, v in
          flax.traverse_util.flatten_dict(tree, sep="/").items()}


# Names and layouts. Kernels: flax conv HWIO and ganjax's transposed conv
# (H, W, out, in) ↔ PyTorch OIHW and (in, out, H, W); dense [in, out] ↔
# [out, in]. Batch-norm statistics ".../Standardize_0/moments/mean" ↔
# ".../mean"; spectral-norm vectors ".../SpectralNorm_i/SpectralNorm_0/
# <layer>/kernel/u" (shape [1, n]) ↔ ".../<layer>/u" ([n]).

_WRAPPERS = re.compile(r"^(Standardize_\d+|SpectralNorm_\d+|moments)$")


def _to_torch_layout(value: np.ndarray) -> np.ndarray:
  """A ganjax variable in the reference's layout (float64)."""
  value = np.asarray(value, np.float64)
  if value.ndim == 4:
    return value.transpose(3, 2, 0, 1)
  return value.T if value.ndim == 2 else value


def to_ganjax_layout(value: np.ndarray) -> np.ndarray:
  """A reference tensor (as NumPy) in ganjax's layout."""
  if value.ndim == 4:
    return value.transpose(2, 3, 1, 0)
  return value.T if value.ndim == 2 else value


def _buffer_name(path: str) -> str | None:
  """The reference's name of a ganjax collection variable (a spectral-norm
  u or batch-norm statistic), or None for one it has no counterpart of."""
  parts = [p for p in path.split("/") if not _WRAPPERS.match(p)]
  if parts[-1] == "u":
    return "/".join(parts[:-2] + ["u"])
  return "/".join(parts) if parts[-1] in ("mean", "var") else None


def torch_params(params: Any) -> Flat:
  """Flax parameters as the reference names and lays them out."""
  return {k: _to_torch_layout(v) for k, v in flatten(params).items()}


def _torch_buffers(collections: dict[str, Any]) -> Flat:
  """Batch-norm averages and spectral-norm vectors as the reference names
  them."""
  out = {}
  for k, v in flatten(collections).items():
    name = _buffer_name(k.split("/", 1)[1])
    if name is not None:
      out[name] = v.reshape(-1) if name.endswith("/u") else v
  return out


def torch_variables(state: state_lib.GANState, net: str
                    ) -> tuple[Flat, Flat]:
  """(params, buffers) of G ("g") or D ("d") for a reference `Network`."""
  return (torch_params(getattr(state, f"{net}_params")),
          _torch_buffers(getattr(state, f"{net}_collections")))


def torch_adam(optimizer: dict[str, float]) -> dict[str, Any]:
  """torch.optim.Adam's arguments for `adam(**optimizer)`: the same update,
  lr·m̂/(√v̂ + ε) with both moments bias-corrected."""
  return {"lr": optimizer["learning_rate"],
          "betas": (optimizer["b1"], optimizer["b2"]),
          "eps": optimizer.get("eps", 1e-8)}


def _ganjax_params(tensors: dict[str, Any]) -> Flat:
  """Reference parameters (torch tensors) in ganjax's layouts."""
  return {k: to_ganjax_layout(v.detach().numpy()) for k, v in
          tensors.items()}


# The reference run on the same numbers.


def nchw(x: np.ndarray) -> np.ndarray:
  """NHWC images as NCHW (other arrays as they are)."""
  return x.transpose(0, 3, 1, 2) if x.ndim == 4 else x


def _reference_inputs(run_: Run, batches: Sequence[dict[str, np.ndarray]],
                     *, num_classes: int = 0, penalty: str | None = None
                     ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
  """The batches and draws of a ganjax run as `torch_reference.train` takes
  them: NCHW float64 tensors, one-hot labels, each D update's penalty
  noise."""
  one_hot = lambda labels: (None if labels is None else
                            torch_reference.tensor(np.eye(num_classes)[labels]))
  ref_batches, ref_draws = [], []
  for batch, step in zip(batches, run_.steps):
    ref_batches.append({"x": torch_reference.tensor(nchw(batch["x"])),
                        "label": one_hot(batch.get("label"))})
    disc_iters = len(step["d"])
    real_shape = (len(batch["x"]) // disc_iters, *batch["x"].shape[1:])
    d_draws = []
    for d in step["d"]:
      noise = _penalty_noise(penalty, d["penalty_key"], real_shape)
      d_draws.append({"z": torch_reference.tensor(d["z"]),
                      "y": one_hot(d["labels"]),
                      "noise": None if noise is None else
                               torch_reference.tensor(nchw(noise))})
    ref_draws.append({"d": d_draws, "g": {
        "z": torch_reference.tensor(step["g"]["z"]),
        "y": one_hot(step["g"]["labels"])}})
  return ref_batches, ref_draws


def train_reference(run_: Run, batches: Sequence[dict[str, np.ndarray]],
                    g: torch_reference.Network, d: torch_reference.Network,
                    *, num_classes: int = 0, penalty_name: str | None = None,
                    **kwargs) -> list[dict[str, Any]]:
  """`torch_reference.train` on the batches and draws of `run_`, its null
  parameters pinned to ganjax's values after each update; `kwargs` go to
  `train`; `penalty_name` is ganjax's penalty (whose noise the reference
  gets)."""
  null = {}

  def pin_null(step, net, network):
    if step == 0:
      grads = {k: np.zeros(v.shape) if v.grad is None else v.grad.numpy()
               for k, v in network.params.items()}
      total = global_norm(grads)
      null[net] = {k: np.abs(v) <= NULL * total for k, v in grads.items()}
    values = flatten(getattr(run_.states[step + 1], f"{net}_params"))
    with torch.no_grad():
      for k, mask in null[net].items():
        if mask.any():
          pinned = torch_reference.tensor(_to_torch_layout(values[k]))
          mask = torch.from_numpy(mask)
          network.params[k][mask] = pinned[mask]

  ref_batches, draws = _reference_inputs(run_, batches,
                                         num_classes=num_classes,
                                         penalty=penalty_name)
  return torch_reference.train(g, d, ref_batches, draws, after_update=pin_null,
                               **kwargs)


def _penalty_noise(name: str, key_data: np.ndarray,
                  real_shape: Sequence[int]) -> np.ndarray | None:
  """The noise that `penalties.<name>` draws from its key: WGAN-GP's α per
  example, DRAGAN's U[0, 1) per element; None for the others."""
  if name not in ("wgan_gp", "dragan"):
    return None
  key = jax.random.wrap_key_data(key_data)
  if name == "wgan_gp":
    shape = (real_shape[0],) + (1,) * (len(real_shape) - 1)
  else:
    shape = tuple(real_shape)
  return np.asarray(jax.random.uniform(key, shape), np.float64)




# Comparisons.


def global_norm(tensors: Flat) -> float:
  return float(np.sqrt(sum(np.sum(np.square(v)) for v in tensors.values())))


def assert_tensors_close(actual: Flat, expected: Flat, what: str,
                         tolerance: Callable[[str, np.ndarray], float]
                         ) -> None:
  """‖actual − expected‖ ≤ tolerance(name, expected) for every tensor."""
  assert set(actual) == set(expected), (what, set(actual) ^ set(expected))
  failures = []
  for name, value in expected.items():
    error = np.linalg.norm(actual[name] - value)
    bound = tolerance(name, value)
    if not error <= bound:
      failures.append(f"{name}: ‖Δ‖ {error:.3g} > {bound:.3g} "
                      f"(‖expected‖ {np.linalg.norm(value):.3g})")
  assert not failures, f"{what}:\n  " + "\n  ".join(failures)


def assert_loss_close(actual: float, expected: float, what: str,
                      atol: float = 0.0) -> None:
  assert abs(actual - expected) <= LOSS_RTOL * abs(expected) + atol, (
      what, actual, expected)


def check_gradients(actual: Flat, expected: Flat, what: str) -> None:
  """First-step gradients of one update."""
  total = global_norm(expected)
  assert total > 0, f"{what}: all 0, nothing to compare"
  null = {k for k, v in expected.items()
          if np.linalg.norm(v) <= NULL * total}
  assert_tensors_close(
      actual, expected, what,
      lambda k, v: NULL_GRAD * total if k in null
      else GRAD_RTOL * np.linalg.norm(v) + ROUNDING * total)


def check_training(run_: Run, records: Sequence[dict[str, Any]],
                   learning_rate: float, *, param_rtol: float = PARAM_RTOL,
                   loss_atol: float = 0.0) -> None:
  """A ganjax run against the reference's records (`torch_reference.train`)
  with the tolerances above; `param_rtol` replaces PARAM_RTOL and
  `loss_atol` is added to the losses' after the first step."""
  first, ref_first = run_.steps[0], records[0]
  check_gradients(first["g"]["grads"], _ganjax_params(ref_first["g_grads"]),
                  "step 0 G gradients")
  for i, (update, grads) in enumerate(zip(first["d"], ref_first["d_grads"])):
    check_gradients(update["grads"], _ganjax_params(grads),
                    f"step 0 D update {i} gradients")
  initial = {"g": flatten(run_.states[0].g_params),
             "d": flatten(run_.states[0].d_params)}
  for step, (state, metrics, record) in enumerate(
      zip(run_.states[1:], run_.metrics, records)):
    atol = loss_atol if step else 0.0
    assert_loss_close(metrics["d_total"], np.mean(record["d_losses"]),
                      f"step {step} D loss", atol)
    assert_loss_close(metrics["g_loss"], record["g_loss"],
                      f"step {step} G loss", atol)

    def param_tolerance(name, value, net, step=step):
      return param_rtol * (np.linalg.norm(value - initial[net][name])
                           + learning_rate * (step + 1) * np.sqrt(value.size))

    nets = {"g": (state.g_params, state.g_collections),
            "d": (state.d_params, state.d_collections)}
    for net, (params, collections) in nets.items():
      assert_tensors_close(
          flatten(params), _ganjax_params(record[f"{net}_params"]),
          f"step {step} {net.upper()} parameters",
          functools.partial(param_tolerance, net=net))
      assert_tensors_close(
          _torch_buffers(collections),
          {k: v.numpy() for k, v in record[f"{net}_buffers"].items()},
          f"step {step} {net.upper()} batch-norm and spectral-norm buffers",
          lambda k, v: BUFFER_RTOL * np.linalg.norm(v))
    if state.ema_params is not None:
      assert_tensors_close(
          flatten(state.ema_params), _ganjax_params(record["ema"]),
          f"step {step} EMA of G", functools.partial(param_tolerance, net="g"))
