r"""Gradient accumulation: memory, compile time and speed of the train step.

  python benchmarks/accumulation_memory.py [--accumulate=1,2,4,8] \
      [--gin_file=experiments/dcgan_fashion_mnist_cpu.gin] \
      [--gin_bindings='experiment.batch_size = 256'] [--repeats=5]

Compiles the config's train step (`steps.train_step`) once per number of
micro-batches k, with the loop over micro-batches as a `lax.scan` and
unrolled, and reads XLA's memory analysis of the compiled step: the
temporary buffers (activations, gradients, workspace) beside the arguments
and outputs (the state and batch, the same for every k). Then times the
step. Prints a Markdown table with the CPU model and the date.
"""

import datetime
import functools
import statistics
import time

from absl import app
from absl import flags
import jax

from ganjax.core import steps
from ganjax.run import config
from ganjax.run import experiment as experiment_lib
from ganjax.run import registry  # pylint: disable=unused-import
import machine

_ACCUMULATE = flags.DEFINE_list("accumulate", ["1", "2", "4", "8"],
                                "Micro-batches per update to measure.")
_GIN_FILES = flags.DEFINE_multi_string(
    "gin_file", ["experiments/dcgan_fashion_mnist_cpu.gin"], "The config.")
_GIN_BINDINGS = flags.DEFINE_multi_string(
    "gin_bindings", ["experiment.batch_size = 256"], "Its bindings.")
_REPEATS = flags.DEFINE_integer("repeats", 5, "Timed steps per setting.")

_MIB = 2**20


def _measure(exp, state, batch, num_micro: int, unrolled: bool) -> dict:
  """Memory (MiB), compile seconds and seconds per step of one setting."""
  step = jax.jit(functools.partial(
      steps.train_step, exp.gan, accumulate_steps=num_micro,
      unrolled=unrolled))
  start = time.perf_counter()
  compiled = step.lower(state, batch, exp.train_key).compile()
  compile_s = time.perf_counter() - start
  memory = compiled.memory_analysis()
  times = []
  out = state
  for _ in range(_REPEATS.value + 1):  # The first warms up.
    start = time.perf_counter()
    out, metrics = compiled(out, batch, exp.train_key)
    jax.block_until_ready(metrics)
    times.append(time.perf_counter() - start)
  return {"temp": memory.temp_size_in_bytes / _MIB,
          "args": memory.argument_size_in_bytes / _MIB,
          "compile": compile_s, "step": statistics.median(times[1:])}


def main(argv):
  del argv
  config.parse(_GIN_FILES.value, _GIN_BINDINGS.value)
  exp = experiment_lib.make_experiment()
  state = jax.jit(exp.init_state)()
  batch = exp.batch(0)
  print(f"{datetime.date.today()}, {machine.cpu_model()}, "
        f"{' '.join(_GIN_FILES.value)} {' '.join(_GIN_BINDINGS.value)}: "
        f"batch {exp.batch_size} per update, jax {jax.__version__}\n")
  print("| k | loop | temporary MiB | vs k = 1 | arguments MiB | compile s "
        "| step s |")
  print("|---:|---|---:|---:|---:|---:|---:|")
  base = None
  for num_micro in (int(k) for k in _ACCUMULATE.value):
    for unrolled in ((False,) if num_micro == 1 else (False, True)):
      m = _measure(exp, state, batch, num_micro, unrolled)
      base = base or m["temp"]
      loop = "–" if num_micro == 1 else ("unrolled" if unrolled else "scan")
      print(f"| {num_micro} | {loop} | {m['temp']:.1f} | "
            f"{m['temp'] / base:.2f} | {m['args']:.1f} | "
            f"{m['compile']:.1f} | {m['step']:.3f} |", flush=True)


if __name__ == "__main__":
  app.run(main)
