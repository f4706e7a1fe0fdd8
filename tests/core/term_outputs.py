"""`terms.Outputs` built by hand, for testing a term on chosen values."""

from typing import Any

import jax
import jax.numpy as jnp

from ganjax.core import terms


def outputs(**fields: Any) -> terms.Outputs:
  """Outputs of an update on 4 unconditional examples; `fields` override
  the defaults (zeros, identity networks, empty term states)."""
  default = dict(
      d_real=jnp.zeros(4), d_fake=jnp.zeros(4), heads_real={},
      heads_fake={}, real=jnp.zeros((4, 2)), fake=jnp.zeros((4, 2)),
      real_labels=None, fake_labels=None, d_params={}, g_params={},
      discriminator=lambda x, y=None: jnp.sum(x, axis=-1),
      penalty_weight=jnp.float32(1.0), rng=jax.random.key(0),
      d_updates=jnp.int32(0), g_updates=jnp.int32(0), term_states={}, z=jnp.zeros((4, 3)),
      y_real=None, y_fake=None, generator=lambda z, y, method=None: z)
  return terms.Outputs(**{**default, **fields})
