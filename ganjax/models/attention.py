"""Self-attention (non-local) block of SAGAN (Zhang et al. 2019), as in BigGAN.

Compare GAN's `non_local_block`: for x of shape [N, H, W, C],

  θ = conv1×1(x) → C/8 channels,  φ = maxpool2×2(conv1×1(x)) → C/8,
  g = maxpool2×2(conv1×1(x)) → C/2,
  attention = softmax over the pooled positions of θ φᵀ ([HW, HW/4]),
  out = x + σ · conv1×1(attention · g) → C channels,

with no biases and a learned scalar gain σ that starts at 0, so the block
starts as the identity. The 1×1 convs use the model's kernel initializer and
weight normalizer (as Compare GAN's code does, although its docstring says
otherwise).
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

from ganjax.models import base


class NonLocalBlock(base.Layers):
  """SAGAN's self-attention with a zero-initialized residual gain `sigma`;
  `base.Layers`' weight normalizer and kernel init serve its 1×1 convs."""

  @nn.compact
  def __call__(self, x: jax.Array, *, train: bool) -> jax.Array:
    n, h, w, c = x.shape
    if c < 8:
      raise ValueError(f"Self-attention needs at least 8 channels (it projects "
                       f"to C/8); got {c}.")

    def conv(inputs: jax.Array, features: int, name: str) -> jax.Array:
      return self.conv(inputs, features, 1, name=name, train=train,
                       use_bias=False)

    def pool(inputs: jax.Array) -> jax.Array:
      pooled = nn.max_pool(inputs, (2, 2), (2, 2))
      return pooled.reshape(n, -1, inputs.shape[-1])

    theta = conv(x, c // 8, "theta").reshape(n, h * w, c // 8)
    phi = pool(conv(x, c // 8, "phi"))
    g = pool(conv(x, c // 2, "g"))
    attention = jax.nn.softmax(jnp.einsum("npc,nqc->npq", theta, phi), axis=-1)
    attended = jnp.einsum("npq,nqc->npc", attention, g).reshape(n, h, w, c // 2)
    sigma = self.param("sigma", nn.initializers.zeros, ())
    return x + sigma * conv(attended, c, "attn_g")
