r"""Train-step throughput on 1…N devices, and in bfloat16 against float32.

For each device count (the first n devices) it builds the sharded train step
that `ganjax.run.train` runs (`partitioning.Partitioning.step`), compiles it,
times `--steps` steps with batches already on the devices, and prints steps/s,
images/s, images/s per device and the speed-up over the first device count
of the same run. The global batch is fixed (`experiment.batch_size`), so this
is strong scaling; `--weak` scales the batch with the device count instead.

  python benchmarks/scaling.py \
      --gin_file=experiments/compare_gan/sndcgan_cifar10.gin \
      --devices=1,2,4,8 [--compute_dtypes=float32,bfloat16] [--weak]

On a CPU machine, simulated devices (XLA_FLAGS=
--xla_force_host_platform_device_count=8) share the same cores: the table
then measures the partitioning's overhead, not a speed-up.
"""

import time

from absl import app
from absl import flags
import gin
import jax

from ganjax.core import steps
from ganjax.run import config
from ganjax.run import experiment as experiment_lib
from ganjax.run import partitioning
from ganjax.run import registry  # pylint: disable=unused-import

_GIN_FILES = flags.DEFINE_multi_string("gin_file", [], "Gin config files.")
_GIN_BINDINGS = flags.DEFINE_multi_string("gin_bindings", [],
                                          "Gin bindings.")
_DEVICES = flags.DEFINE_list("devices", ["1", "2", "4", "8"],
                             "Device counts to time.")
_DTYPES = flags.DEFINE_list("compute_dtypes", ["float32"],
                            "GAN.compute_dtype values to time.")
_STEPS = flags.DEFINE_integer("steps", 10, "Timed steps per setting.")
_WEAK = flags.DEFINE_bool("weak", False,
                          "Scale the batch with the device count.")


def _time(num_devices: int, compute_dtype: str) -> dict[str, float]:
  """Compile and step times of the train step on `num_devices` devices."""
  gin.clear_config()
  bindings = [f"GAN.compute_dtype = '{compute_dtype}'"]
  config.parse(_GIN_FILES.value, _GIN_BINDINGS.value + bindings)
  if _WEAK.value:
    with gin.unlock_config():
      batch = gin.query_parameter("experiment.batch_size")
      gin.bind_parameter("experiment.batch_size", batch * num_devices)
  exp = experiment_lib.make_experiment()
  part = partitioning.make(devices=jax.devices()[:num_devices])
  experiment_lib.check_devices(exp, num_devices)
  template = jax.eval_shape(exp.init_state)
  state = part.init(exp.init_state, template)
  step = part.step(lambda s, b, k: steps.train_step(exp.gan, s, b, k),
                   template)
  batch = part.put_batch(exp.batch(0))
  start = time.perf_counter()
  state, metrics = step(state, batch, exp.train_key)
  jax.block_until_ready(metrics)
  compiled = time.perf_counter() - start
  start = time.perf_counter()
  for _ in range(_STEPS.value):
    state, metrics = step(state, batch, exp.train_key)
  jax.block_until_ready((state, metrics))
  seconds = (time.perf_counter() - start) / _STEPS.value
  return {"batch": exp.step_batch_size(), "compile_s": compiled,
          "steps_per_s": 1.0 / seconds,
          "images_per_s": exp.step_batch_size() / seconds}


def main(argv):
  del argv
  print(f"{jax.device_count()} {jax.devices()[0].platform} devices "
        f"({jax.devices()[0].device_kind}); {_STEPS.value} steps each; "
        f"{'weak' if _WEAK.value else 'strong'} scaling")
  print("| dtype | devices | batch | compile s | steps/s | images/s | "
        "images/s/device | speed-up |")
  print("|---|---|---|---|---|---|---|---|")
  for dtype in _DTYPES.value:
    first = None
    for count in (int(n) for n in _DEVICES.value):
      r = _time(count, dtype)
      first = first or r["images_per_s"]
      print(f"| {dtype} | {count} | {r['batch']} | {r['compile_s']:.1f} | "
            f"{r['steps_per_s']:.2f} | {r['images_per_s']:.0f} | "
            f"{r['images_per_s'] / count:.0f} | "
            f"{r['images_per_s'] / first:.2f}× |", flush=True)


if __name__ == "__main__":
  app.run(main)
