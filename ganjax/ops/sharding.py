"""Sharding constraints on a model call, so G and D run data-parallel.

The run layer's device mesh (`run/partitioning.py`) has a data-parallel axis
"data" and an axis "fsdp" over which large parameters are sharded.
"""

from typing import Any

import jax
from jax.sharding import PartitionSpec as P

DATA, FSDP = "data", "fsdp"


def constrain_call(params: Any, inputs: Any) -> tuple[Any, Any]:
  """Parameters gathered whole and inputs split over the batch, when traced
  under a mesh with an fsdp axis (`Partitioning.step`); as given otherwise.

  Left to itself, XLA's sharding propagation would carry a kernel's fsdp
  sharding into the activations (splitting them along features or space,
  with costly reshuffles); gathering each parameter where it is used keeps
  G and D data-parallel, as ZeRO does.
  """
  mesh = jax.sharding.get_abstract_mesh()
  if mesh.empty or FSDP not in mesh.axis_names:
    return params, inputs
  if mesh.shape[FSDP] > 1:
    params = jax.lax.with_sharding_constraint(params, P())
  inputs = jax.tree.map(
      lambda x: jax.lax.with_sharding_constraint(x, P((DATA, FSDP))), inputs)
  return params, inputs
