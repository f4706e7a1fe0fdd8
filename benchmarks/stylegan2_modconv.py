r"""StyleGAN2's modulated convolution on CPU: which implementation is faster.

Times a G update's work, the forward and backward pass of StyleGAN2's G
(`models.stylegan2.Generator`, noise inputs on), with each implementation
of `stylegan2_layers.modulated_conv2d`:

  activations  the styles scale the activations before one convolution
               shared by the batch, the demodulation scales its output (the
               reference's training path, fused_modconv=False);
  grouped      per-sample kernels as one grouped convolution of the whole
               batch (the reference's inference path).

Both compute the same function (tests/models/stylegan2_test.py). Each
size and implementation is compiled once, then the repeats alternate
between the implementations and the table gives the median time per pass.

  python benchmarks/stylegan2_modconv.py [--sizes=16,32] [--batch_size=8]
      [--channel_base=1024] [--repeats=3] [--steps=2]
"""

import argparse
import functools
import statistics
import time

import jax
import jax.numpy as jnp

from ganjax.models import stylegan2
from ganjax.models import stylegan2_layers
import machine


def _pass(side: int, batch: int, channel_base: int, modconv: str):
  """A compiled G forward + backward (the gradient of sum(G(z)))."""
  g = stylegan2.Generator(output_shape=(side, side, 3), w_dim=256,
                          mapping_layers=2, channel_base=channel_base,
                          channel_max=256, modconv=modconv)
  z = jax.random.normal(jax.random.key(0), (batch, 256))
  variables = jax.jit(functools.partial(g.init, train=False))(
      jax.random.key(1), z)

  @jax.jit
  def grads(params, z, key):
    return jax.grad(lambda p: jnp.sum(g.apply(
        {**variables, "params": p}, z, train=False,
        rngs={"noise": key})))(params)

  key = jax.random.key(2)
  jax.block_until_ready(grads(variables["params"], z, key))  # Compile.

  def run(steps):
    start = time.perf_counter()
    for _ in range(steps):
      out = grads(variables["params"], z, key)
    jax.block_until_ready(out)
    return (time.perf_counter() - start) / steps
  return run


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--sizes", default="16,32")
  parser.add_argument("--batch_size", type=int, default=8)
  parser.add_argument("--channel_base", type=int, default=1024)
  parser.add_argument("--repeats", type=int, default=3)
  parser.add_argument("--steps", type=int, default=2)
  args = parser.parse_args()
  print(f"CPU: {machine.cpu_model()}; jax {jax.__version__}"
        f"; batch {args.batch_size}, channel_base {args.channel_base}, "
        "channel_max 256, w_dim 256")
  print("| side | activations (ms) | grouped (ms) | grouped / activations |")
  print("|---:|---:|---:|---:|")
  for side in (int(s) for s in args.sizes.split(",")):
    runs = {m: _pass(side, args.batch_size, args.channel_base, m)
            for m in stylegan2_layers.MODCONV}
    times = {m: [] for m in runs}
    for _ in range(args.repeats):
      for m, run in runs.items():
        times[m].append(run(args.steps))
    a, g = (statistics.median(times[m]) * 1e3
            for m in ("activations", "grouped"))
    print(f"| {side} | {a:.1f} | {g:.1f} | {g / a:.2f} |", flush=True)


if __name__ == "__main__":
  main()
