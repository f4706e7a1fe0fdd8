"""PyTorch reference GANs for the parity tests, written without ganjax.

Each piece follows the reference code it names: Compare GAN
(architectures/*.py, arch_ops.py, gans/modular_gan.py, loss_lib.py,
penalty_lib.py) and the paper code of progressive GAN (networks.py,
loss.py), with images in [-1, 1] and tanh outputs where ganjax documents
that change. Tensors are NCHW and float64, so the reference's own rounding
is negligible next to float32 ganjax's.

A `Network` holds named parameters and buffers, named as ganjax names its
variables so that a test can copy ganjax's initial values in (kernels in
PyTorch's layouts: conv OIHW, transposed conv (in, out, H, W), linear
[out, in]). Buffers are the batch-norm moving averages `<bn>/mean` and
`<bn>/var` and the spectral-norm vectors `<layer>/u`.
"""

import math
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch.nn import functional as F

DTYPE = torch.float64
Tensor = torch.Tensor


def tensor(value: Any, requires_grad: bool = False) -> Tensor:
  """`value` as a tensor of the reference's dtype."""
  return torch.tensor(np.asarray(value), dtype=DTYPE,
                      requires_grad=requires_grad)


def _l2_normalize(x: Tensor, epsilon: float = 1e-12) -> Tensor:
  """tf.math.l2_normalize over the whole tensor."""
  return x * torch.rsqrt(torch.clamp(torch.sum(x * x), min=epsilon))


def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
  """TensorFlow's "SAME" padding (before, after) of one spatial axis."""
  out = -(-size // stride)
  total = max((out - 1) * stride + kernel - size, 0)
  return total // 2, total - total // 2


def leaky_relu(x: Tensor, slope: float = 0.2) -> Tensor:
  """arch_ops.lrelu, tf.maximum(x, slope·x): slope 1 at exactly 0 (TF's
  maximum passes a tie's gradient to its first argument), as ganjax's. The
  progressive GAN's tf.maximum(x·α, x) has slope α there instead, which
  matters only where pre-activations are exactly 0 (here: the all-zero
  pixels of a G whose output bias is still 0)."""
  return torch.where(x >= 0, x, slope * x)


def flatten_nhwc(h: Tensor) -> Tensor:
  """[N, C, H, W] → [N, H·W·C]: TensorFlow's (and so the weights') order."""
  return h.permute(0, 2, 3, 1).reshape(h.shape[0], -1)


def minibatch_stddev(x: Tensor, group_size: int) -> Tensor:
  """The progressive GAN's minibatch_stddev_layer (and StyleGAN2's, with
  one feature): groups of examples n ≡ m mod (N / G), G = min(group_size,
  N)."""
  size = min(group_size, x.shape[0])
  h, w = x.shape[2:]
  y = x.reshape(size, -1, *x.shape[1:])
  y = y - y.mean(dim=0, keepdim=True)
  y = torch.sqrt(torch.mean(y * y, dim=0) + 1e-8)
  y = y.mean(dim=(1, 2, 3)).view(-1, 1, 1, 1).repeat(size, 1, h, w)
  return torch.cat([x, y], dim=1)


def upsample_nearest(x: Tensor) -> Tensor:
  return x.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)


class Network:
  """A network's tensors and Compare GAN's layers on them.

  Attributes:
    params: trained tensors by name (leaves with requires_grad).
    buffers: batch-norm moving averages and spectral-norm vectors by name.
    spectral_norm: None, or which singular vector Compare GAN's
      `spectral_norm` keeps: "left" (its default: u in the kernel's input
      space) or "right" (u in its output space, as SN-GAN's code).

  Every call is a training-mode call: batch statistics, and the buffers
  updated.
  """

  def __init__(self, params: dict[str, Any], buffers: dict[str, Any], *,
               spectral_norm: str | None = None, bn_decay: float = 0.9,
               bn_epsilon: float = 1e-5):
    self.params = {k: tensor(v, requires_grad=True)
                   for k, v in params.items()}
    self.buffers = {k: tensor(v) for k, v in buffers.items()}
    self.spectral_norm = spectral_norm
    self.bn_decay = bn_decay
    self.bn_epsilon = bn_epsilon

  def __call__(self, x: Tensor, y: Tensor | None = None) -> Tensor:
    raise NotImplementedError

  def kernel(self, name: str) -> Tensor:
    """The kernel of layer `name`, spectrally normalized if configured."""
    w = self.params[f"{name}/kernel"]
    return w if self.spectral_norm is None else w / self._sigma(name, w)

  def _sigma(self, name: str, w: Tensor) -> Tensor:
    """arch_ops.spectral_norm: one power iteration from the stored u, which
    it updates; u and v without gradient. Its matrix is the TF kernel
    reshaped to [fan_in, out] (fan_in ordered as TF's H, W, in); here m is
    its transpose."""
    tf_kernel = w.permute(2, 3, 1, 0) if w.ndim == 4 else w.T
    m = tf_kernel.reshape(-1, w.shape[0]).T
    u = self.buffers[f"{name}/u"]
    with torch.no_grad():
      if self.spectral_norm == "right":
        v = _l2_normalize(m.T @ u)
        u = _l2_normalize(m @ v)
        left, right = u, v
      else:
        v = _l2_normalize(m @ u)
        u = _l2_normalize(m.T @ v)
        left, right = v, u
    self.buffers[f"{name}/u"] = u
    return left @ m @ right

  def bias(self, name: str, x: Tensor) -> Tensor:
    b = self.params.get(f"{name}/bias")
    if b is None:
      return x
    return x + (b.view(1, -1, 1, 1) if x.ndim == 4 else b)

  def conv(self, name: str, x: Tensor, stride: int = 1) -> Tensor:
    """A convolution with TensorFlow's "SAME" padding."""
    w = self.kernel(name)
    (top, bottom), (left, right) = (
        _same_padding(x.shape[axis], w.shape[axis], stride) for axis in (2, 3))
    x = F.pad(x, (left, right, top, bottom))
    return self.bias(name, F.conv2d(x, w, stride=stride))

  def conv_transpose(self, name: str, x: Tensor, stride: int,
                     out_hw: Sequence[int]) -> Tensor:
    """tf.nn.conv2d_transpose with "SAME" padding and an explicit output size:
    the full transposed convolution, cropped by the forward conv's padding."""
    w = self.kernel(name)
    full = F.conv_transpose2d(x, w, stride=stride)
    for axis, out in zip((2, 3), out_hw):
      before, _ = _same_padding(out, w.shape[axis], stride)
      full = full.narrow(axis, before, out)
    return self.bias(name, full)

  def dense(self, name: str, x: Tensor) -> Tensor:
    return self.bias(name, x @ self.kernel(name).T)

  def standardize(self, name: str, x: Tensor) -> Tensor:
    """arch_ops.standardize_batch in training: per feature, with the batch's
    mean and biased variance, which also update the moving averages."""
    axes = [0] + list(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean, var = x.mean(axes), x.var(axes, correction=0)
    with torch.no_grad():
      for stat, value in (("mean", mean), ("var", var)):
        key = f"{name}/{stat}"
        self.buffers[key] = (self.bn_decay * self.buffers[key]
                             + (1 - self.bn_decay) * value)
    return (x - mean.view(shape)) * torch.rsqrt(var.view(shape)
                                                + self.bn_epsilon)

  def batch_norm(self, name: str, x: Tensor) -> Tensor:
    """Batch norm with a learned scale and offset per feature."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return (self.standardize(name, x) * self.params[f"{name}/scale"].view(shape)
            + self.params[f"{name}/offset"].view(shape))

  def conditional_batch_norm(self, name: str, x: Tensor, y: Tensor) -> Tensor:
    """Conditional batch norm as BigGAN-PyTorch's `ccbn`: γ = 1 + W_γ y,
    β = W_β y (Compare GAN's γ = W_γ y is ganjax's compare_gan_gamma)."""
    shape = (x.shape[0], -1) + (1,) * (x.ndim - 2)
    gamma = 1.0 + self.dense(f"{name}/gamma", y)
    beta = self.dense(f"{name}/beta", y)
    return (self.standardize(name, x) * gamma.view(shape)
            + beta.view(shape))


# Compare GAN's architectures.


def _halvings(size: int, times: int) -> list[int]:
  sizes = [size]
  for _ in range(times):
    sizes.append(-(-sizes[-1] // 2))
  return sizes


class DCGANGenerator(Network):
  """architectures/dcgan.py's G with a tanh output."""

  def __init__(self, params, buffers, *, output_shape: Sequence[int],
               width: int):
    super().__init__(params, buffers)
    self.output_shape = output_shape
    self.width = width

  def __call__(self, z: Tensor, y: Tensor | None = None) -> Tensor:
    height, width, _ = self.output_shape
    heights, widths = _halvings(height, 4), _halvings(width, 4)
    h = self.dense("Dense_0", z)
    h = h.view(-1, heights[4], widths[4], 8 * self.width).permute(0, 3, 1, 2)
    h = F.relu(self.batch_norm("BatchNorm_0", h))
    for i, level in enumerate((3, 2, 1)):
      h = self.conv_transpose(f"ConvTranspose_{i}", h, 2,
                              (heights[level], widths[level]))
      h = F.relu(self.batch_norm(f"BatchNorm_{i + 1}", h))
    return torch.tanh(self.conv_transpose("ConvTranspose_3", h, 2,
                                          (height, width)))


class DCGANDiscriminator(Network):
  """architectures/dcgan.py's D with batch norm on all convs but the first."""

  def __call__(self, x: Tensor, y: Tensor | None = None) -> Tensor:
    h = x
    for i in range(4):
      h = self.conv(f"Conv_{i}", h, stride=2)
      if i:
        h = self.batch_norm(f"BatchNorm_{i - 1}", h)
      h = leaky_relu(h, 0.2)
    return self.dense("Dense_0", flatten_nhwc(h))


class SNDCGANGenerator(Network):
  """architectures/sndcgan.py's G with a tanh output."""

  def __init__(self, params, buffers, *, output_shape: Sequence[int],
               ch: int):
    super().__init__(params, buffers)
    self.output_shape = output_shape
    self.ch = ch

  def __call__(self, z: Tensor, y: Tensor | None = None) -> Tensor:
    height, width, _ = self.output_shape
    sides = list(zip(_halvings(height, 3), _halvings(width, 3)))
    h8, w8 = sides[3]
    h = F.relu(self.batch_norm("bn1", self.dense("fc", z)))
    h = h.view(-1, h8, w8, 8 * self.ch).permute(0, 3, 1, 2)
    for i, level in enumerate((2, 1, 0)):
      h = self.conv_transpose(f"deconv{i + 2}", h, 2, sides[level])
      h = F.relu(self.batch_norm(f"bn{i + 2}", h))
    return torch.tanh(self.conv_transpose("deconv5", h, 1, sides[0]))


class SNDCGANDiscriminator(Network):
  """architectures/sndcgan.py's D (inputs already in [-1, 1])."""

  def __call__(self, x: Tensor, y: Tensor | None = None) -> Tensor:
    h = x
    for i, stride in enumerate((1, 2, 1, 2, 1, 2, 1)):
      h = leaky_relu(self.conv(f"conv{i + 1}", h, stride), 0.1)
    return self.dense("final_fc", flatten_nhwc(h))


def _avg_pool(x: Tensor) -> Tensor:
  return F.avg_pool2d(x, 2)


class ResNetCifarGenerator(Network):
  """architectures/resnet_cifar.py's G, conditional batch norm, nearest
  upsampling and a tanh output."""

  def __init__(self, params, buffers, *, ch: int):
    super().__init__(params, buffers)
    self.ch = ch

  def __call__(self, z: Tensor, y: Tensor | None = None) -> Tensor:
    h = self.dense("fc_noise", z).view(-1, 4, 4, self.ch).permute(0, 3, 1, 2)
    for i in range(3):
      name = f"B{i + 1}"
      x = h
      h = F.relu(self.conditional_batch_norm(f"{name}/bn1", h, y))
      h = self.conv(f"{name}/conv1", upsample_nearest(h))
      h = F.relu(self.conditional_batch_norm(f"{name}/bn2", h, y))
      h = self.conv(f"{name}/conv2", h)
      h = h + self.conv(f"{name}/shortcut", upsample_nearest(x))
    h = F.relu(self.conditional_batch_norm("final_norm", h, y))
    return torch.tanh(self.conv("final_conv", h))


class ResNetCifarDiscriminator(Network):
  """architectures/resnet_cifar.py's D with the projection term. The first
  block has no ReLU before its first conv: Compare GAN's was the identity
  on its [0, 1] images (as SN-GAN's first block)."""

  def __call__(self, x: Tensor, y: Tensor | None = None) -> Tensor:
    h = x
    for i, down in enumerate((True, True, False, False)):
      name = f"B{i + 1}"
      skip = h
      if i:
        h = F.relu(h)
      h = self.conv(f"{name}/conv2", F.relu(self.conv(f"{name}/conv1", h)))
      if self.learned_shortcut(down):
        skip = self.conv(f"{name}/shortcut", skip)
      if down:
        h, skip = _avg_pool(h), _avg_pool(skip)
      h = h + skip
    h = self.pool(F.relu(h))
    embedded = y @ self.params["ClassHeads_0/embed/kernel"].T
    return (self.dense("final_fc", h)
            + torch.sum(embedded * h, dim=1, keepdim=True))

  def learned_shortcut(self, down: bool) -> bool:
    del down  # Every block has one.
    return True

  def pool(self, h: Tensor) -> Tensor:
    return torch.mean(h, dim=(2, 3))


class BigGANPyTorchDiscriminator(ResNetCifarDiscriminator):
  """BigGAN-PyTorch's D at 32×32 (`D_arch[32]`, as data-efficient-gans and
  StudioGAN's big_resnet build it), without attention: the same four blocks,
  the first two downsampling, but a learned 1×1 shortcut only where a block
  downsamples or changes the channels (`learnable_sc`; in D_arch[32] only
  the first changes them), the identity elsewhere, and sum pooling."""

  def learned_shortcut(self, down: bool) -> bool:
    return down

  def pool(self, h: Tensor) -> Tensor:
    return torch.sum(h, dim=(2, 3))


class MLPGenerator(Network):
  """Goodfellow et al.'s MLP G: dense (no bias) → batch norm → ReLU, then a
  linear output."""

  def __init__(self, params, buffers, *, num_hidden: int, bn_decay: float):
    super().__init__(params, buffers, bn_decay=bn_decay)
    self.num_hidden = num_hidden

  def __call__(self, z: Tensor, y: Tensor | None = None) -> Tensor:
    h = z
    for i in range(self.num_hidden):
      h = self.dense(f"_HiddenLayers_0/Dense_{i}", h)
      h = F.relu(self.batch_norm(f"_HiddenLayers_0/BatchNorm_{i}", h))
    return self.dense("Dense_0", h)


class MLPDiscriminator(Network):
  """PacGAN's maxout MLP D: each unit the max of `pieces` consecutive
  outputs of a dense layer."""

  def __init__(self, params, buffers, *, num_hidden: int, pieces: int):
    super().__init__(params, buffers)
    self.num_hidden = num_hidden
    self.pieces = pieces

  def __call__(self, x: Tensor, y: Tensor | None = None) -> Tensor:
    h = x.reshape(x.shape[0], -1)
    for i in range(self.num_hidden):
      h = self.dense(f"_HiddenLayers_0/Maxout_{i}/Dense_0", h)
      h = h.view(h.shape[0], -1, self.pieces).amax(-1)
    return self.dense("Dense_0", h)


# The progressive GAN paper code's D.


class PGGANDiscriminator(Network):
  """networks.py `D_paper` (fused_scale=True, equalized learning rate,
  minibatch stddev) on images of its top level, `fade` into that level."""

  def __init__(self, params, buffers, *, fade: float, group_size: int = 4):
    super().__init__(params, buffers)
    self.fade = fade
    self.group_size = group_size

  def _weight(self, name: str, gain: float = math.sqrt(2.0)) -> Tensor:
    """get_weight(use_wscale=True): the stored N(0, 1) weight · gain/√fan_in."""
    w = self.params[f"{name}/kernel"]
    return w * (gain / math.sqrt(w[0].numel()))

  def _conv(self, name: str, x: Tensor) -> Tensor:
    w = self._weight(name)
    pad = w.shape[-1] // 2
    return self.bias(name, F.conv2d(F.pad(x, (pad,) * 4), w))

  def _conv_downscale(self, name: str, x: Tensor) -> Tensor:
    """conv2d_downscale2d: the kernel padded, its 4 shifts averaged, then a
    stride-2 conv ("SAME": one pixel each side)."""
    w = F.pad(self._weight(name), (1, 1, 1, 1))
    w = (w[..., 1:, 1:] + w[..., :-1, 1:] + w[..., 1:, :-1]
         + w[..., :-1, :-1]) * 0.25
    return self.bias(name, F.conv2d(F.pad(x, (1, 1, 1, 1)), w, stride=2))

  def _dense(self, name: str, x: Tensor, gain: float = math.sqrt(2.0)):
    return self.bias(name, x @ self._weight(name, gain).T)

  def __call__(self, x: Tensor, y: Tensor | None = None) -> Tensor:
    level = int(math.log2(x.shape[-1])) - 2
    from_rgb = lambda image, k: leaky_relu(self._conv(f"from_rgb_{k}", image))
    h = from_rgb(x, level)
    for k in range(level, 0, -1):
      h = leaky_relu(self._conv(f"conv_{k}a", h))
      h = leaky_relu(self._conv_downscale(f"conv_{k}b", h))
      if k == level:  # lerp_clip(x, y, lod_in − lod) with lod_in = 1 − fade.
        lower = from_rgb(F.avg_pool2d(x, 2), k - 1)
        h = h + (lower - h) * (1.0 - self.fade)
    h = leaky_relu(self._conv("conv_0", minibatch_stddev(h,
                                                         self.group_size)))
    h = leaky_relu(self._dense("dense_0", flatten_nhwc(h)))
    return self._dense("logit", h, gain=1.0)


# Losses (loss_lib.py; least squares on sigmoid probabilities) as
# (d_loss, g_loss) of the logits.

Losses = Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]


def non_saturating(d_real: Tensor, d_fake: Tensor) -> tuple[Tensor, Tensor]:
  bce = F.binary_cross_entropy_with_logits
  return (bce(d_real, torch.ones_like(d_real))
          + bce(d_fake, torch.zeros_like(d_fake)),
          bce(d_fake, torch.ones_like(d_fake)))


def wasserstein(d_real: Tensor, d_fake: Tensor,
                drift: float = 0.0) -> tuple[Tensor, Tensor]:
  """`drift`: the progressive GAN's ε·E[D(x)²] on reals (loss.py)."""
  return (d_fake.mean() - d_real.mean() + drift * torch.mean(d_real ** 2),
          -d_fake.mean())


def least_squares(d_real: Tensor, d_fake: Tensor) -> tuple[Tensor, Tensor]:
  p_real, p_fake = torch.sigmoid(d_real), torch.sigmoid(d_fake)
  return (0.5 * (torch.mean((p_real - 1.0) ** 2) + torch.mean(p_fake ** 2)),
          0.5 * torch.mean((p_fake - 1.0) ** 2))


def hinge(d_real: Tensor, d_fake: Tensor) -> tuple[Tensor, Tensor]:
  return (F.relu(1.0 - d_real).mean() + F.relu(1.0 + d_fake).mean(),
          -d_fake.mean())


# Penalties (penalty_lib.py; R1/R2 as Mescheder et al.'s (γ/2)·E‖∇D‖²), as
# functions of D, the reals, the fakes and the step's noise.

Discriminator = Callable[[Tensor], Tensor]


def _input_gradients(d: Discriminator, x: Tensor) -> Tensor:
  x = x.detach().requires_grad_(True)
  grads, = torch.autograd.grad(d(x).sum(), x, create_graph=True)
  return grads.reshape(x.shape[0], -1)


def _slope_penalty(d: Discriminator, x: Tensor,
                   epsilon: float = 1e-4) -> Tensor:
  slopes = torch.sqrt(epsilon
                      + torch.sum(_input_gradients(d, x) ** 2, dim=1))
  return torch.mean((slopes - 1.0) ** 2)


def wgan_gp(d: Discriminator, real: Tensor, fake: Tensor, noise: Tensor,
            epsilon: float = 1e-4) -> Tensor:
  """`noise`: α per example, U[0, 1); `epsilon` inside the norm's square root
  (Compare GAN's 1e-4; the progressive GAN's loss.py has none)."""
  return _slope_penalty(d, real + noise * (fake - real), epsilon)


def dragan(d: Discriminator, real: Tensor, fake: Tensor,
           noise: Tensor) -> Tensor:
  """`noise`: U[0, 1) per element; std over the whole real batch. Compare
  GAN then clips to its image range; these 2-D data have none."""
  del fake
  return _slope_penalty(d, real + real.std(correction=0) * (noise - 0.5))


def r1(d: Discriminator, real: Tensor, fake: Tensor,
       noise: Tensor) -> Tensor:
  """½ E‖∇D‖² on the reals."""
  del fake, noise
  return 0.5 * torch.mean(torch.sum(_input_gradients(d, real) ** 2, dim=1))


def r2(d: Discriminator, real: Tensor, fake: Tensor,
       noise: Tensor) -> Tensor:
  """½ E‖∇D‖² on the fakes."""
  del real, noise
  return 0.5 * torch.mean(torch.sum(_input_gradients(d, fake) ** 2, dim=1))


# The modular GAN's training loop.


def train(g: Network, d: Network, batches: Sequence[dict[str, Any]],
          draws: Sequence[dict[str, Any]], *, loss: Losses,
          penalty: Callable[..., Tensor] | None = None,
          penalty_weight: float = 0.0, disc_iters: int = 1,
          separate_d_calls: bool = False, penalty_every: int = 1,
          lazy_reg_updates: bool = False, adam: dict[str, Any],
          ema_decay: float | None = None, ema_start_step: int = 0,
          after_update: Callable[[int, str, Network], None] | None = None
          ) -> list[dict[str, Any]]:
  """Compare GAN's modular GAN, step by step, with Adam on both networks.

  Each step: `disc_iters` D updates, update i on examples i, i + disc_iters,
  … of the batch (ganjax's documented slicing; Compare GAN's TPU path gave G
  its own sub-batch), each against fakes of fresh latents, G in training
  mode; one D call on concat(real, fake), loss + λ·penalty (used with a D
  without buffers: the penalty's D calls would update them). Then one G
  update on the last D update's reals, D in training mode (so its moving
  averages and spectral-norm vectors update too), and the EMA of G's
  weights with decay·[step ≥ start] (copying before).

  Args:
    g, d: the networks, with ganjax's initial values.
    batches: per step, {"x": images (NCHW) or vectors, "label": one-hot}.
    draws: per step, {"d": per D update {"z", "y" (one-hot fake labels),
      "noise"}, "g": {"z", "y"}}.
    loss: one of the losses above.
    penalty: one of the penalties above, or None.
    penalty_weight: λ.
    disc_iters: D updates per step.
    separate_d_calls: call D on the reals and on the fakes separately, as
      the progressive GAN's loss.py (and Compare GAN's
      `deprecated_split_disc_calls`), instead of once on concat(real, fake).
    penalty_every: the penalty only in D updates 0, k, 2k, …, times k
      (lazy regularization).
    lazy_reg_updates: the penalty as an Adam step of its own after the D
      update's, from the parameters after it (StyleGAN2's Dmain and Dreg
      phases); "d_losses" then holds both steps' losses summed, "d_grads"
      the last step's gradients.
    adam: torch.optim.Adam's lr, betas and eps, for both networks.
    ema_decay: decay of the EMA of G, or None.
    ema_start_step: G step from which the EMA averages.
    after_update: called as (step, "d" or "g", network) after the step's D
      updates and after its G update, gradients still in place (None for
      parameters the network did not use).

  Returns:
    Per step: "d_losses" and "d_grads" (per D update), "g_loss", "g_grads",
    and copies of G's and D's parameters and buffers after the step (and of
    the EMA).
  """
  g_opt = torch.optim.Adam(list(g.params.values()), **adam)
  d_opt = torch.optim.Adam(list(d.params.values()), **adam)
  ema = {k: v.detach().clone() for k, v in g.params.items()}
  grads = lambda net: {k: torch.zeros_like(v) if v.grad is None
                       else v.grad.detach().clone()
                       for k, v in net.params.items()}
  copy = lambda tensors: {k: v.detach().clone() for k, v in tensors.items()}
  cat = lambda a, b: None if a is None else torch.cat([a, b])

  def discriminate(real, fake, y_real, y_fake):
    if separate_d_calls:
      return d(real, y_real), d(fake, y_fake)
    return d(torch.cat([real, fake]), cat(y_real, y_fake)).chunk(2)

  records = []
  for step, (batch, draw) in enumerate(zip(batches, draws)):
    record = {"d_losses": [], "d_grads": []}
    reals = [batch["x"][i::disc_iters] for i in range(disc_iters)]
    labels = [None if batch.get("label") is None
              else batch["label"][i::disc_iters] for i in range(disc_iters)]
    for i, (real, y_real, d_draw) in enumerate(zip(reals, labels,
                                                   draw["d"])):
      with torch.no_grad():
        fake = g(d_draw["z"], d_draw.get("y"))
      due = penalty is not None and (
          step * disc_iters + i) % penalty_every == 0
      regularizer = lambda: penalty_every * penalty_weight * penalty(
          lambda x, y=y_real: d(x, y), real, fake, d_draw.get("noise"))
      d_opt.zero_grad()
      total = loss(*discriminate(real, fake, y_real, d_draw.get("y")))[0]
      if due and not lazy_reg_updates:
        total = total + regularizer()
      total.backward()
      d_opt.step()
      value = total.item()
      if due and lazy_reg_updates:
        d_opt.zero_grad()
        reg = regularizer()
        reg.backward()
        d_opt.step()
        value += reg.item()
      record["d_losses"].append(value)
      record["d_grads"].append(grads(d))
    if after_update is not None:
      after_update(step, "d", d)
    g_opt.zero_grad()
    fake = g(draw["g"]["z"], draw["g"].get("y"))
    g_loss = loss(*discriminate(reals[-1], fake, labels[-1],
                                draw["g"].get("y")))[1]
    g_loss.backward()
    g_opt.step()
    if after_update is not None:
      after_update(step, "g", g)
    if ema_decay is not None:
      decay = ema_decay if step >= ema_start_step else 0.0
      with torch.no_grad():
        for k, v in g.params.items():
          ema[k] = decay * ema[k] + (1 - decay) * v
    record.update(g_loss=g_loss.item(), g_grads=grads(g),
                  g_params=copy(g.params), d_params=copy(d.params),
                  g_buffers=copy(g.buffers), d_buffers=copy(d.buffers),
                  ema=copy(ema))
    records.append(record)
  return records
