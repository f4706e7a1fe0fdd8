"""How the train state and batches are laid out over devices (gin
`partitioning.*`).

The devices form a mesh with a data-parallel axis "data" and an axis "fsdp"
over which large parameters and their optimizer states are sharded (FSDP /
ZeRO style; size 1, the default, replicates them). Batches are split over
all devices. The train step is one `jax.jit` with these shardings: XLA
inserts the all-reduce of gradients, the all-gathers of sharded parameters
and the global batch statistics of batch norm, so the same step runs on one
CPU, eight GPUs or a pod. Inside the step the models' parameters are
gathered whole and their inputs split over the batch
(`ops.sharding.constrain_call`), so
that G and D always run data-parallel; only the stored state (parameters,
optimizer states, EMA) stays sharded. Random numbers are drawn for the
global batch (`jax_threefry_partitionable`, on by default), each device
computing its own part, so results do not depend on the number of devices
or hosts (up to the order of float reductions).
"""

import dataclasses
from typing import Any, Callable, Sequence

import gin
import jax
import numpy as np
from jax.sharding import AxisType
from jax.sharding import Mesh
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from ganjax.ops.sharding import DATA
from ganjax.ops.sharding import FSDP


@dataclasses.dataclass(frozen=True)
class Partitioning:
  """A device mesh and the rules that place arrays on it.

  Attributes:
    mesh: devices as a (data, fsdp) grid.
    fsdp_min_size: arrays with fewer elements stay replicated even when the
      fsdp axis is larger than 1 (sharding them saves little and costs a
      collective each).
  """
  mesh: Mesh
  fsdp_min_size: int

  @property
  def batch(self) -> NamedSharding:
    """Batches: the leading axis split over every device."""
    return NamedSharding(self.mesh, P((DATA, FSDP)))

  @property
  def replicated(self) -> NamedSharding:
    return NamedSharding(self.mesh, P())

  def _leaf(self, leaf: jax.ShapeDtypeStruct) -> NamedSharding:
    """The sharding of one state array: its largest axis that the fsdp axis
    divides is split over it, if the array is large enough."""
    fsdp = self.mesh.shape[FSDP]
    if fsdp == 1 or leaf.size < self.fsdp_min_size:
      return self.replicated
    # Largest first; the first of equals.
    axes = [a for a in sorted(range(len(leaf.shape)),
                              key=lambda a: -leaf.shape[a])
            if leaf.shape[a] % fsdp == 0]
    if not axes:
      return self.replicated
    spec = [None] * len(leaf.shape)
    spec[axes[0]] = FSDP
    return NamedSharding(self.mesh, P(*spec))

  def state(self, abstract_state: Any) -> Any:
    """Shardings of a state given by its shapes (`jax.eval_shape`)."""
    return jax.tree.map(self._leaf, abstract_state)

  def abstract(self, abstract_state: Any) -> Any:
    """The state's shapes with their shardings, for restoring checkpoints
    straight onto the devices."""
    return jax.tree.map(
        lambda s, sharding: jax.ShapeDtypeStruct(s.shape, s.dtype,
                                                 sharding=sharding),
        abstract_state, self.state(abstract_state))

  def init(self, init_fn: Callable[[], Any], abstract_state: Any) -> Any:
    """Runs `init_fn`, whose result has the shapes `abstract_state`
    (`jax.eval_shape(init_fn)`), so that the state is created already
    sharded."""
    return jax.jit(init_fn, out_shardings=self.state(abstract_state))()

  def step(self, step_fn: Callable[..., tuple[Any, Any]],
           abstract_state: Any) -> Callable[..., tuple[Any, Any]]:
    """`step_fn(state, batch, rng) -> (state, metrics)` compiled with the
    state's shardings, batches split over the devices and replicated metrics;
    the input state's buffers are donated. It is traced under the mesh, so
    `ops.sharding.constrain_call` applies."""
    shardings = self.state(abstract_state)
    jitted = jax.jit(step_fn,
                     in_shardings=(shardings, self.batch, self.replicated),
                     out_shardings=(shardings, self.replicated),
                     donate_argnums=0)

    def run(state, batch, rng):
      with jax.set_mesh(self.mesh):
        return jitted(state, batch, rng)

    run.jitted = jitted
    return run

  def put_batch(self, local: dict[str, np.ndarray]) -> dict[str, jax.Array]:
    """This process's part of a global batch (`Dataset.batch` with the
    process index and count) as global arrays split over the devices."""
    return {k: jax.make_array_from_process_local_data(self.batch, v)
            for k, v in local.items()}


@gin.configurable("partitioning")
def make(fsdp: int = 1, fsdp_min_size: int = 2**18,
         devices: Sequence[jax.Device] | None = None) -> Partitioning:
  """The mesh of all devices (or `devices`) with `fsdp` along its fsdp axis.

  Args:
    fsdp: devices that each large parameter is sharded over; it must divide
      the device count (1: plain data parallelism, parameters replicated).
    fsdp_min_size: elements from which a parameter is sharded.
    devices: the devices to use; all of them by default.

  Returns:
    The partitioning.
  """
  devices = list(jax.devices() if devices is None else devices)
  if fsdp < 1 or len(devices) % fsdp:
    raise ValueError(f"partitioning.fsdp = {fsdp} must be >= 1 and divide "
                     f"the {len(devices)} devices.")
  mesh = jax.make_mesh((len(devices) // fsdp, fsdp), (DATA, FSDP),
                       axis_types=(AxisType.Auto, AxisType.Auto),
                       devices=devices)
  return Partitioning(mesh, fsdp_min_size)
