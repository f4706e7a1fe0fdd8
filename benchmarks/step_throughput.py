r"""Training steps/s on CPU: ganjax against the same networks in PyTorch.

For each network (Compare GAN's dcgan and infogan, the Lucic et al. network,
at 28×28×1; sndcgan and resnet_cifar at 32×32×3) one *training step* is one D
update (D on concat(real, fake) with fresh G(z), non-saturating loss, Adam)
and one G update (D again on concat(real, fake), Adam), batch 64, as
`ganjax.core.steps.train_step` does with `disc_iters = 1`. ganjax runs
`jax.jit(functools.partial(steps.train_step, gan), donate_argnums=0)`;
PyTorch runs the same networks (`torch_networks.py`, eager mode) with the same
step, D's weights frozen during the G update (so both compute the same
gradients). Neither keeps an EMA of G. Real images are one fixed random batch
(no input pipeline is timed).
ganjax is timed once per CPU convolution lowering (`--cpu_conv`, the switch
of `ganjax/ops/conv.py`: im2col, and XLA's own convolutions), each in its
own worker, so the table shows which is faster on the machine at hand.

Each framework runs in its own worker process with the same thread count: the
workers are pinned to the same `--threads` CPUs, PyTorch gets
`torch.set_num_threads(n)` (and OMP/MKL_NUM_THREADS) and XLA
`--xla_cpu_multi_thread_eigen` and `intra_op_parallelism_threads=n`. Both
workers build and warm up (compile) first; then repeats alternate between
them (so background load hits both alike), each timing `--steps` steps (a
per-network default if 0) after blocking on the results, and the table gives
the median and range over `--repeats`. `--profile` also traces one step of
each framework and prints its most expensive ops (XLA ops with their shapes
and convolution windows; PyTorch aten ops by self time).

FLOPs per step are XLA's cost analysis of the compiled ganjax step (2 per
multiply-add; the same count is used for both frameworks; PyTorch's own
`FlopCounterMode` count of matmuls and convolutions is printed beside it as a
check). The machine's peak is the best of float32 2048×2048 matmuls timed in
JAX and in PyTorch at the same thread count.

Parameter counts of both versions are printed: equal counts show that the
PyTorch network has the same layers as the ganjax one.

Needs PyTorch, which is not a ganjax dependency:

  pip install torch==2.13.0   # the CPU build on Linux x86-64
  python benchmarks/step_throughput.py [--threads=2] [--steps=0] \
      [--repeats=3] [--networks=dcgan,infogan,sndcgan,resnet_cifar] \
      [--batch_size=64] [--cpu_conv=im2col,xla] [--profile]

Networks whose ganjax module is missing are skipped with a note.
"""

# Workers import jax or torch only after the thread settings are made.
# pylint: disable=import-outside-toplevel

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))

Z_DIM = 128
LEARNING_RATE = 2e-4
BETAS = (0.5, 0.999)
PEAK_SIZE = 2048
_TAG = "@@ "

# network -> (ganjax module, gin module, image shape HWC, D spectral norm,
# default timed steps per repeat: about 5-30 s of PyTorch on 2 cores).
# Spectral norm in D as Compare GAN's configs: off for dcgan/infogan, on for
# sndcgan and resnet_cifar (resnet_cifar10.gin, sndcgan_celebahq128.gin).
NETWORKS = {
    "dcgan": ("ganjax.models.dcgan", "models.dcgan", (28, 28, 1), False, 5),
    "infogan": ("ganjax.models.infogan", "models.infogan", (28, 28, 1),
                False, 20),
    "sndcgan": ("ganjax.models.sndcgan", "models.sndcgan", (32, 32, 3), True,
                2),
    "resnet_cifar": ("ganjax.models.resnet_cifar", "models.resnet_cifar",
                     (32, 32, 3), True, 1),
}


def say(message: dict) -> None:
  """A protocol line to the parent (other stdout lines are ignored)."""
  sys.stdout.write(_TAG + json.dumps(message) + "\n")
  sys.stdout.flush()


def pin(threads: int) -> None:
  """Restricts this process to the first `threads` allowed CPUs."""
  cpus = sorted(os.sched_getaffinity(0))
  if threads < len(cpus):
    os.sched_setaffinity(0, cpus[:threads])


def serve(run_steps, extra=None):
  """Serves "run N" (time N steps) and "quit" from the parent."""
  for line in sys.stdin:
    words = line.split()
    if not words or words[0] == "quit":
      return
    if words[0] == "run":
      say({"seconds": run_steps(int(words[1]))})
    elif extra is not None:
      say(extra(words))


# ---------------------------------------------------------------------------
# Workers.


def count(tree) -> int:
  import jax
  return int(sum(x.size for x in jax.tree.leaves(tree)))


def _ganjax_classes(network: str):
  """(Generator, Discriminator) classes of a ganjax network, or raises."""
  import importlib
  import gin
  module_name, gin_module = NETWORKS[network][:2]
  module = importlib.import_module(module_name)
  classes = []
  for name in ("Generator", "Discriminator"):
    try:
      classes.append(gin.get_configurable(f"{gin_module}.{name}"))
    except Exception:  # pylint: disable=broad-except
      classes.append(getattr(module, name))
  return classes


def _with_spectral_norm(cls):
  """`cls` constructed with spectral norm on every layer."""
  import dataclasses
  import functools
  from ganjax.models import normalizers
  fields = {f.name for f in dataclasses.fields(cls)}
  if "weight_norm" in fields:
    return functools.partial(cls, weight_norm=normalizers.SpectralNorm)
  if "spectral_norm" in fields:
    return functools.partial(cls, spectral_norm=True)
  raise ValueError(f"{cls.__name__} has no weight_norm/spectral_norm field.")


def jax_worker(args) -> None:
  """Builds, compiles and times the ganjax train step of `args.network`."""
  try:
    g_class, d_class = _ganjax_classes(args.network)
  except Exception as e:  # pylint: disable=broad-except
    say({"skip": f"not importable: {type(e).__name__}: {e}"})
    return
  try:
    built = _build_jax_step(args, g_class, d_class)
  except Exception as e:  # pylint: disable=broad-except
    say({"skip": f"building the step failed: {type(e).__name__}: {e}"})
    return
  serve_jax(args, *built)


def _build_jax_step(args, g_class, d_class):
  """(compiled step, state, batch, rng, info) of a ganjax network."""
  import functools
  import jax
  import optax
  from ganjax.core import gan as gan_lib
  from ganjax.core import state as state_lib
  from ganjax.core import steps
  from ganjax.data import dataset

  shape, d_sn = NETWORKS[args.network][2], NETWORKS[args.network][3]
  if d_sn:
    d_class = _with_spectral_norm(d_class)
  gan = gan_lib.make_gan(
      dataset.DataSpec(shape=shape, num_classes=None, is_image=True),
      generator=g_class, discriminator=d_class,
      g_optimizer=optax.adam(LEARNING_RATE, *BETAS),
      d_optimizer=optax.adam(LEARNING_RATE, *BETAS),
      z_dim=Z_DIM, prior="normal", disc_iters=1, ema_decay=None)
  batch = args.batch_size
  state = jax.jit(lambda: state_lib.create_state(
      gan, jax.random.key(0), shape, batch))()
  info = {
      "g_params": count(state.g_params), "d_params": count(state.d_params),
      "d_norm": "batch_stats" in state.d_collections,
      "d_sn": "spectral_norm" in state.d_collections,
      "g_sn": "spectral_norm" in state.g_collections,
  }
  images = {"x": jax.random.uniform(jax.random.key(2), (batch, *shape),
                                    minval=-1.0, maxval=1.0)}
  rng = jax.random.key(1)
  start = time.perf_counter()
  step = jax.jit(functools.partial(steps.train_step, gan), donate_argnums=0)
  compiled = step.lower(state, images, rng).compile()
  info["compile_s"] = time.perf_counter() - start
  cost = compiled.cost_analysis()
  if isinstance(cost, (list, tuple)):
    cost = cost[0]
  info["flops"] = float(cost["flops"])
  return compiled, state, images, rng, info


def serve_jax(args, compiled, state, images, rng, info) -> None:
  """Warms up, then times steps on the parent's request."""
  import jax
  holder = [state]

  def run_steps(n):
    s = holder[0]
    jax.block_until_ready(s)
    start = time.perf_counter()
    for _ in range(n):
      s, _ = compiled(s, images, rng)
    jax.block_until_ready(s)
    holder[0] = s
    return time.perf_counter() - start

  run_steps(args.warmup)
  say({"ready": info})
  hlo = _hlo_ops(compiled.as_text())

  def profile(words):
    del words
    return {"ops": _profile_jax(run_steps, hlo, args.profile_ops)}

  serve(run_steps, profile)


_HLO_LINE = re.compile(r"^\s*(?:ROOT )?%?([\w.\-]+) = (\S+) ([\w\-]+)\(")
_HLO_WINDOW = re.compile(r"window=\{[^}]*\}(, dim_labels=[^,\s]+)?")


def _hlo_ops(text: str) -> dict[str, str]:
  """HLO instruction name -> "opcode result-shape window" of a module."""
  ops = {}
  for line in text.splitlines():
    match = _HLO_LINE.match(line)
    if match:
      name, shape, opcode = match.groups()
      window = _HLO_WINDOW.search(line)
      ops[name] = " ".join(filter(None, [opcode, shape.split("{")[0],
                                         window and window.group(0)]))
  return ops


def _profile_jax(run_steps, hlo: dict[str, str], top: int) -> list:
  """The `top` XLA ops by time in one traced step: [name, ms, description]."""
  import collections
  import glob
  import gzip
  import shutil
  import tempfile
  import jax
  folder = tempfile.mkdtemp(prefix="step_throughput_trace_")
  try:
    with jax.profiler.trace(folder, create_perfetto_trace=True):
      run_steps(1)
    (path,) = glob.glob(f"{folder}/**/*.trace.json.gz", recursive=True)
    with gzip.open(path) as f:
      events = json.load(f)
  finally:
    shutil.rmtree(folder, ignore_errors=True)
  if isinstance(events, dict):
    events = events["traceEvents"]
  total = collections.Counter()
  for event in events:
    name = event.get("name", "")
    if event.get("ph") == "X" and name in hlo:
      total[name] += event.get("dur", 0) / 1e3
  return [[name, ms, hlo[name]] for name, ms in total.most_common(top)]


def torch_worker(args) -> None:
  """Builds and times the PyTorch train step of `args.network`."""
  import torch
  from torch.nn import functional as F
  from torch.utils import flop_counter
  sys.path.insert(0, _HERE)
  import torch_networks

  torch.set_num_threads(args.threads)
  torch.manual_seed(0)
  shape = NETWORKS[args.network][2]
  g, d = torch_networks.build(args.network, shape, z_dim=Z_DIM,
                              d_norm=args.d_norm, d_sn=args.d_sn)
  g.train()
  d.train()
  g_opt = torch.optim.Adam(g.parameters(), LEARNING_RATE, betas=BETAS)
  d_opt = torch.optim.Adam(d.parameters(), LEARNING_RATE, betas=BETAS)
  batch = args.batch_size
  height, width, channels = shape
  real = torch.rand(batch, channels, height, width) * 2 - 1

  def train_step():
    # D update: fresh fakes, D on concat(real, fake).
    with torch.no_grad():
      fake = g(torch.randn(batch, Z_DIM))
    logits = d(torch.cat([real, fake]))
    d_real, d_fake = logits[:batch], logits[batch:]
    d_loss = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
    d_opt.zero_grad(set_to_none=True)
    d_loss.backward()
    d_opt.step()
    # G update: D (frozen) again on concat(real, fake).
    d.requires_grad_(False)
    fake = g(torch.randn(batch, Z_DIM))
    g_loss = F.softplus(-d(torch.cat([real, fake]))[batch:]).mean()
    g_opt.zero_grad(set_to_none=True)
    g_loss.backward()
    g_opt.step()
    d.requires_grad_(True)

  def run_steps(n):
    start = time.perf_counter()
    for _ in range(n):
      train_step()
    return time.perf_counter() - start

  counter = flop_counter.FlopCounterMode(display=False)
  with counter:
    train_step()
  info = {"g_params": torch_networks.num_params(g),
          "d_params": torch_networks.num_params(d),
          "flops": float(counter.get_total_flops()),
          "torch": torch.__version__,
          "torch_threads": torch.get_num_threads()}
  run_steps(args.warmup)
  say({"ready": info})

  def profile(words):
    del words
    from torch import profiler
    with profiler.profile(activities=[profiler.ProfilerActivity.CPU],
                          record_shapes=True) as prof:
      train_step()
    rows = sorted(prof.key_averages(group_by_input_shape=True),
                  key=lambda r: r.self_cpu_time_total, reverse=True)
    return {"ops": [[r.key, r.self_cpu_time_total / 1e3, str(r.input_shapes)]
                    for r in rows[:args.profile_ops]]}

  serve(run_steps, profile)


def _best_time(fn, repeats: int = 5) -> float:
  best = float("inf")
  for _ in range(repeats):
    start = time.perf_counter()
    fn()
    best = min(best, time.perf_counter() - start)
  return best


def peak_worker(args) -> None:
  """GFLOP/s of a float32 PEAK_SIZE² matmul, in JAX or in PyTorch."""
  n = PEAK_SIZE
  if args.worker == "peak_jax":
    import jax
    import jax.numpy as jnp
    a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32)
    b = jax.random.normal(jax.random.key(1), (n, n), jnp.float32)
    dot = jax.jit(jnp.dot)
    fn = lambda: dot(a, b).block_until_ready()
    version = f"jax {jax.__version__}"
  else:
    import torch
    torch.set_num_threads(args.threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    fn = lambda: torch.mm(a, b)
    version = f"torch {torch.__version__}"
  fn()
  seconds = _best_time(fn)
  say({"gflops": 2 * n**3 / seconds / 1e9, "version": version})


# ---------------------------------------------------------------------------
# Parent.


def _env(threads: int) -> dict[str, str]:
  env = dict(os.environ)
  env.update({
      "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
      "OPENBLAS_NUM_THREADS": str(threads), "JAX_PLATFORMS": "cpu",
      "TF_CPP_MIN_LOG_LEVEL": "2",
  })
  eigen = "true" if threads > 1 else "false"
  env["XLA_FLAGS"] = " ".join(filter(None, [
      env.get("XLA_FLAGS", ""), f"--xla_cpu_multi_thread_eigen={eigen}",
      f"intra_op_parallelism_threads={threads}"]))
  return env


class Worker:
  """A worker subprocess (`script --worker=...`, this benchmark's by
  default) speaking the "@@ {json}" protocol."""

  def __init__(self, args, worker: str, *extra: str,
               cpu_conv: str | None = None, script: str = __file__):
    command = [sys.executable, os.path.abspath(script), f"--worker={worker}",
               f"--threads={args.threads}", f"--batch_size={args.batch_size}",
               f"--warmup={args.warmup}", f"--profile_ops={args.profile_ops}",
               *extra]
    env = _env(args.threads)
    if cpu_conv:
      env["GANJAX_CPU_CONV"] = cpu_conv  # ganjax.ops.conv's switch.
    self.process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env=env)

  def read(self) -> dict:
    for line in self.process.stdout:
      if line.startswith(_TAG):
        return json.loads(line[len(_TAG):])
    raise RuntimeError(f"Worker exited with code {self.process.wait()}.")

  def ask(self, command: str) -> dict:
    self.process.stdin.write(command + "\n")
    self.process.stdin.flush()
    return self.read()

  def close(self) -> None:
    if self.process.poll() is None:
      try:
        self.process.stdin.write("quit\n")
        self.process.stdin.flush()
      except BrokenPipeError:
        pass
    self.process.wait()


def _start(args, worker: str, network: str, *extra: str,
           cpu_conv: str | None = None) -> Worker:
  return Worker(args, worker, f"--network={network}", *extra,
                cpu_conv=cpu_conv)


def _measure(args, network: str, log) -> dict | None:
  """Builds a ganjax worker per CPU convolution lowering and a PyTorch
  worker for `network`, and times repeats alternating between them."""
  num_steps = args.steps or NETWORKS[network][4]
  workers = {}
  try:
    jax_infos = {}
    for lowering in args.cpu_conv:
      workers[lowering] = _start(args, "jax", network, cpu_conv=lowering)
      info = workers[lowering].read()
      if "skip" in info:
        log(f"note: skipping {network}: ganjax network {info['skip']}")
        return None
      jax_infos[lowering] = info = info["ready"]
      log(f"{network}: ganjax ({lowering} convolutions) compiled in "
          f"{info['compile_s']:.1f} s, {info['flops'] / 1e9:.2f} GFLOP/step "
          "(XLA cost analysis)")
    jax_info = jax_infos[args.cpu_conv[0]]
    if jax_info["g_sn"]:
      log(f"warning: {network}: the ganjax G uses spectral norm; the PyTorch "
          "G does not.")
    workers["torch"] = _start(args, "torch", network,
                              f"--d_norm={int(jax_info['d_norm'])}",
                              f"--d_sn={int(jax_info['d_sn'])}")
    torch_info = workers["torch"].read()["ready"]
    log(f"{network}: PyTorch ready; its FlopCounterMode count (matmuls and "
        f"convolutions) {torch_info['flops'] / 1e9:.2f} GFLOP/step")
    rates = {name: [] for name in workers}
    for r in range(args.repeats):
      order = list(workers.items())
      if r % 2:
        order.reverse()
      for name, w in order:
        seconds = w.ask(f"run {num_steps}")["seconds"]
        rates[name].append(num_steps / seconds)
      log(f"{network}: repeat {r + 1}/{args.repeats}: " + ", ".join(
          f"{name} {values[-1]:.3f}" for name, values in rates.items()) +
          f" steps/s (load {os.getloadavg()[0]:.2f})")
    profiles = {}
    if args.profile:
      profiles = {f"ganjax, {lowering} (XLA ops)":
                      workers[lowering].ask("profile")["ops"]
                  for lowering in args.cpu_conv}
      profiles["PyTorch (aten ops, self time)"] = workers["torch"].ask(
          "profile")["ops"]
  finally:
    for w in workers.values():
      w.close()
  return {"jax": jax_infos, "torch": torch_info, "rates": rates,
          "steps": num_steps, "profiles": profiles}


def _params(info) -> str:
  return f"{info['g_params'] / 1e6:.3f}M / {info['d_params'] / 1e6:.3f}M"


def _rate(values) -> str:
  return (f"{statistics.median(values):.3f} "
          f"({min(values):.2f}–{max(values):.2f})")


def parent(args) -> None:
  import importlib.util
  if importlib.util.find_spec("torch") is None:
    sys.exit("This benchmark needs PyTorch: pip install torch==2.13.0")
  log = lambda message: print(message, file=sys.stderr, flush=True)
  load_start = os.getloadavg()
  peaks = {}
  for kind in ("peak_jax", "peak_torch"):
    w = Worker(args, kind)
    out = w.read()
    w.close()
    peaks[out["version"]] = out["gflops"]
    log(f"matmul peak ({PEAK_SIZE}² float32, {args.threads} threads), "
        f"{out['version']}: {out['gflops']:.1f} GFLOP/s")
  peak = max(peaks.values())
  results = {}
  for network in args.networks:
    out = _measure(args, network, log)
    if out is not None:
      results[network] = out
  load_end = os.getloadavg()

  print(f"\nTraining steps/s, batch {args.batch_size}, {args.threads} threads, "
        f"median (min–max) of {args.repeats} repeats; "
        f"{os.cpu_count()} CPUs; " + ", ".join(peaks) + ".")
  print(f"Matmul peak {peak:.1f} GFLOP/s (" + ", ".join(
      f"{k}: {v:.1f}" for k, v in peaks.items()) + "). Load average "
        f"{load_start[0]:.2f} at start, {load_end[0]:.2f} at end.")
  print("GFLOP/step: XLA's cost analysis of the compiled ganjax step with the "
        f"first lowering ({args.cpu_conv[0]}), used for every GFLOP/s; in "
        "parentheses PyTorch's FlopCounterMode (matmuls and convolutions, "
        "padded taps included). CPU conv: ganjax's convolution lowering "
        "(GANJAX_CPU_CONV; xla = lax.conv_general_dilated).\n")
  print("| network | D norm | CPU conv | params G / D, ganjax | "
        "params G / D, PyTorch | ganjax steps/s | PyTorch steps/s | ratio | "
        "GFLOP/step XLA (PyTorch) | ganjax GFLOP/s (% peak) | "
        "PyTorch GFLOP/s (% peak) |")
  print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
  for network, out in results.items():
    torch_info, rates = out["torch"], out["rates"]
    torch_rate = statistics.median(rates["torch"])
    gflop = out["jax"][args.cpu_conv[0]]["flops"] / 1e9
    shape = "×".join(map(str, NETWORKS[network][2]))
    for lowering, jax_info in out["jax"].items():
      norms = [n for n, on in (("BN", jax_info["d_norm"]),
                               ("SN", jax_info["d_sn"])) if on] or ["none"]
      same = (jax_info["g_params"], jax_info["d_params"]) == (
          torch_info["g_params"], torch_info["d_params"])
      jax_rate = statistics.median(rates[lowering])
      print(f"| {network} {shape}, {out['steps']} steps | {'+'.join(norms)} "
            f"| {lowering} | {_params(jax_info)} | "
            f"{_params(torch_info)}{'' if same else ' (DIFFERENT)'} | "
            f"{_rate(rates[lowering])} | {_rate(rates['torch'])} | "
            f"{jax_rate / torch_rate:.2f} | {gflop:.1f} "
            f"({torch_info['flops'] / 1e9:.1f}) | "
            f"{gflop * jax_rate:.1f} ({100 * gflop * jax_rate / peak:.0f} %) "
            f"| {gflop * torch_rate:.1f} "
            f"({100 * gflop * torch_rate / peak:.0f} %) |")
  for network, out in results.items():
    for who, ops in out["profiles"].items():
      print(f"\n{network}, {who}, one step, top {len(ops)} by time:")
      for name, ms, what in ops:
        print(f"  {ms:9.1f} ms  {name}  {what}")
  skipped = [n for n in args.networks if n not in results]
  if skipped:
    print(f"\nSkipped (ganjax network not available, see the log): "
          f"{', '.join(skipped)}.")
  sys.stdout.flush()


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--threads", type=int, default=2)
  parser.add_argument("--steps", type=int, default=0,
                      help="Timed steps per repeat (0: a per-network default, "
                      "5 dcgan, 20 infogan, 2 sndcgan, 1 resnet_cifar).")
  parser.add_argument("--repeats", type=int, default=3)
  parser.add_argument("--warmup", type=int, default=2,
                      help="Untimed steps after building/compiling.")
  parser.add_argument("--networks", default=",".join(NETWORKS),
                      help="Comma-separated subset of " + ", ".join(NETWORKS))
  parser.add_argument("--batch_size", type=int, default=64)
  parser.add_argument("--cpu_conv", default="im2col,xla",
                      help="ganjax's CPU convolution lowerings to time, "
                      "comma-separated (ganjax.ops.conv: im2col, xla).")
  parser.add_argument("--profile", action="store_true",
                      help="Also trace one step of each framework and print "
                      "the most expensive ops.")
  parser.add_argument("--profile_ops", type=int, default=12)
  # Internal: worker processes.
  parser.add_argument("--worker", default="", help=argparse.SUPPRESS)
  parser.add_argument("--network", default="", help=argparse.SUPPRESS)
  parser.add_argument("--d_norm", type=int, default=0, help=argparse.SUPPRESS)
  parser.add_argument("--d_sn", type=int, default=0, help=argparse.SUPPRESS)
  args = parser.parse_args()
  args.networks = [n for n in args.networks.split(",") if n]
  args.cpu_conv = [c for c in args.cpu_conv.split(",") if c]
  unknown = [n for n in args.networks if n not in NETWORKS]
  if unknown:
    parser.error(f"unknown networks {unknown}; choose from {list(NETWORKS)}")
  if not args.worker:
    parent(args)
    return
  pin(args.threads)
  if args.worker == "jax":
    jax_worker(args)
  elif args.worker == "torch":
    torch_worker(args)
  else:
    peak_worker(args)


if __name__ == "__main__":
  main()
