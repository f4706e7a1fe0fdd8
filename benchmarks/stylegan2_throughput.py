r"""StyleGAN2 training steps/s on CPU: ganjax against stylegan2-ada-pytorch.

One *step* is one batch of stylegan2-ada-pytorch's training loop: its
phases Gmain, Greg (path-length regularization, every 4th batch, half
batch), Dmain and Dreg (R1, every 16th batch), each an Adam step with the
lazy-regularization learning-rate/β correction, then G's EMA; its networks
(`training/networks.py`), loss (`training/loss.py`, StyleGAN2Loss with style
mixing) and ops' reference (non-CUDA) paths, imported from a checkout of the
official code (`--reference_dir`), in float32 (num_fp16_res=0). ganjax runs
`steps.train_step` of the same gin config, jitted with the state donated.
Both sides get their settings from the gin config (`--gin_file`; the
networks' widths, mapping depth, clamping, γ, the regularizers' intervals,
Adam's, the EMA's), and each repeat times a multiple of 16 steps, so both
run the same mix of plain and regularized steps. Real images are one fixed
random batch (no input pipeline is timed); no ADA (a config with terms other
than terms.PathLength is refused).

Both take the same 2.31 Adam steps per step on average at intervals 4 and
16 (ganjax with `GAN.lazy_reg_updates`; a config without it is refused);
ganjax computes its regularizers' gradients in every step, through a
`lax.cond` that skips the work where they are not due.

Each framework runs in its own worker pinned to the same `--threads` CPUs
(`step_throughput.py`'s workers and thread settings); repeats alternate
between them, and the table gives the median and range.

  git clone https://github.com/NVlabs/stylegan2-ada-pytorch  # d72cc7d
  pip install torch==2.13.0   # the CPU build on Linux x86-64
  python benchmarks/stylegan2_throughput.py \
      --reference_dir=stylegan2-ada-pytorch [--threads=2] [--steps=16] \
      [--repeats=3] \
      [--gin_file=experiments/stylegan2/fashion_mnist_cpu.gin]
"""

# Workers import jax or torch only after the thread settings are made.
# pylint: disable=import-outside-toplevel

import argparse
import json
import os
import statistics
import sys
import time

import machine
import step_throughput

_REG_PERIOD = 16  # A multiple of both lazy intervals of the configs.


def _settings(gan, state, shape) -> dict:
  """The gin config's StyleGAN2 settings, as the PyTorch worker needs them
  (Adam's as the optimizers' states hold them, lazily corrected)."""
  from ganjax.core import path_length
  g, d = gan.generator, gan.discriminator
  others = [t.name for t in gan.terms
            if not isinstance(t, path_length.PathLength)]
  if others or gan.num_classes or not gan.lazy_reg_updates:
    raise ValueError(f"terms {others} / {gan.num_classes} classes / "
                     f"lazy_reg_updates {gan.lazy_reg_updates}: the PyTorch "
                     "step times an unconditional StyleGAN2 with path-length "
                     "regularization only, its regularizers in steps of "
                     "their own.")
  pl, = gan.terms
  adam = {net: [float(opt_state.hyperparams[name])
                for name in ("learning_rate", "b1", "b2", "eps")]
          for net, opt_state in (("generator", state.g_opt_state),
                                 ("discriminator", state.d_opt_state))}
  return {
      "shape": list(shape), "z_dim": gan.z_dim, "w_dim": g.w_dim,
      "mapping_layers": g.mapping_layers, "g_channel_base": g.channel_base,
      "g_channel_max": g.channel_max, "g_conv_clamp": g.conv_clamp,
      "style_mixing_prob": g.style_mixing_prob,
      "d_architecture": d.architecture, "d_channel_base": d.channel_base,
      "d_channel_max": d.channel_max, "d_conv_clamp": d.conv_clamp,
      "mbstd_group_size": d.mbstd_group_size,
      "r1_gamma": gan.penalty_weight, "d_reg_interval": gan.penalty_every,
      "pl_weight": pl.weight, "g_reg_interval": pl.every,
      "pl_batch_shrink": pl.batch_shrink, "pl_decay": pl.decay,
      "g_adam": adam["generator"], "d_adam": adam["discriminator"],
      "ema_half_life_images": gan.ema_half_life_images,
      "ema_rampup": gan.ema_rampup,
  }


def jax_worker(args) -> None:
  """Builds, compiles and times ganjax's train step of the gin config."""
  import functools
  import gin
  import jax
  from ganjax.core import gan as gan_lib
  from ganjax.core import state as state_lib
  from ganjax.core import steps
  from ganjax.data import dataset
  from ganjax.run import config
  from ganjax.run import registry  # pylint: disable=unused-import

  config.parse([args.gin_file], [])
  batch = gin.query_parameter("experiment.batch_size")
  shape = tuple(args.shape)
  gan = gan_lib.make_gan(dataset.DataSpec(shape=shape, num_classes=None,
                                          is_image=True))
  state = jax.jit(lambda: state_lib.create_state(
      gan, jax.random.key(0), shape, batch))()
  settings = _settings(gan, state, shape)
  images = {"x": jax.random.uniform(jax.random.key(2), (batch, *shape),
                                    minval=-1.0, maxval=1.0)}
  rng = jax.random.key(1)
  start = time.perf_counter()
  step = jax.jit(functools.partial(steps.train_step, gan), donate_argnums=0)
  compiled = step.lower(state, images, rng).compile()
  info = {"compile_s": time.perf_counter() - start, "batch": batch,
          "settings": settings, "jax": jax.__version__,
          "g_params": step_throughput.count(state.g_params),
          "d_params": step_throughput.count(state.d_params)}
  step_throughput.serve_jax(args, compiled, state, images, rng, info)


def torch_worker(args) -> None:
  """stylegan2-ada-pytorch's training-loop batch, on the same settings."""
  import copy
  import torch
  sys.path.insert(0, os.path.abspath(args.reference_dir))
  from training import loss as loss_lib
  from training import networks

  torch.set_num_threads(args.threads)
  torch.manual_seed(0)
  s = json.loads(args.settings)
  height, _, channels = s["shape"]
  device = torch.device("cpu")
  g = networks.Generator(
      z_dim=s["z_dim"], c_dim=0, w_dim=s["w_dim"], img_resolution=height,
      img_channels=channels,
      mapping_kwargs={"num_layers": s["mapping_layers"]},
      synthesis_kwargs={"channel_base": s["g_channel_base"],
                        "channel_max": s["g_channel_max"],
                        "num_fp16_res": 0, "conv_clamp": s["g_conv_clamp"]})
  d = networks.Discriminator(
      c_dim=0, img_resolution=height, img_channels=channels,
      architecture=s["d_architecture"], channel_base=s["d_channel_base"],
      channel_max=s["d_channel_max"], num_fp16_res=0,
      conv_clamp=s["d_conv_clamp"],
      epilogue_kwargs={"mbstd_group_size": s["mbstd_group_size"]})
  g.train().requires_grad_(False)
  d.train().requires_grad_(False)
  g_ema = copy.deepcopy(g).eval()
  loss = loss_lib.StyleGAN2Loss(
      device, G_mapping=g.mapping, G_synthesis=g.synthesis, D=d,
      style_mixing_prob=s["style_mixing_prob"], r1_gamma=s["r1_gamma"],
      pl_batch_shrink=s["pl_batch_shrink"], pl_decay=s["pl_decay"],
      pl_weight=s["pl_weight"])
  phases = []  # As training_loop.py sets them up (lazy regularization).
  for name, module, adam, interval in (
      ("G", g, s["g_adam"], s["g_reg_interval"]),
      ("D", d, s["d_adam"], s["d_reg_interval"])):
    lr, b1, b2, eps = adam  # Corrected by k/(k + 1) as the reference does.
    opt = torch.optim.Adam(module.parameters(), lr=lr, betas=(b1, b2),
                           eps=eps)
    phases += [(name + "main", module, opt, 1),
               (name + "reg", module, opt, interval)]
  batch = args.batch_size
  real = torch.rand(batch, channels, height, height) * 2 - 1
  real_c = torch.zeros(batch, 0)
  counter = {"batch_idx": 0}

  def train_step():
    batch_idx = counter["batch_idx"]
    all_z = torch.randn(len(phases), batch, s["z_dim"])
    for (name, module, opt, interval), gen_z in zip(phases, all_z):
      if batch_idx % interval:
        continue
      opt.zero_grad(set_to_none=True)
      module.requires_grad_(True)
      loss.accumulate_gradients(phase=name, real_img=real, real_c=real_c,
                                gen_z=gen_z, gen_c=real_c, sync=True,
                                gain=interval)
      module.requires_grad_(False)
      for p in module.parameters():
        if p.grad is not None:
          torch.nan_to_num(p.grad, nan=0, posinf=1e5, neginf=-1e5,
                           out=p.grad)
      opt.step()
    half_life = s["ema_half_life_images"]
    if s["ema_rampup"] is not None:
      half_life = min(half_life, batch_idx * batch * s["ema_rampup"])
    beta = 0.5 ** (batch / max(half_life, 1e-8))
    with torch.no_grad():
      for p_ema, p in zip(g_ema.parameters(), g.parameters()):
        p_ema.copy_(p.lerp(p_ema, beta))
      for b_ema, b in zip(g_ema.buffers(), g.buffers()):
        b_ema.copy_(b)
    counter["batch_idx"] += 1

  def run_steps(n):
    start = time.perf_counter()
    for _ in range(n):
      train_step()
    return time.perf_counter() - start

  count = lambda m: sum(p.numel() for p in m.parameters())
  run_steps(args.warmup)
  step_throughput.say({"ready": {"g_params": count(g), "d_params": count(d),
                                 "torch": torch.__version__}})
  step_throughput.serve(run_steps)


def parent(args) -> None:
  import importlib.util
  if importlib.util.find_spec("torch") is None:
    sys.exit("This benchmark needs PyTorch: pip install torch==2.13.0")
  if not os.path.isfile(os.path.join(args.reference_dir, "training",
                                     "networks.py")):
    sys.exit(f"--reference_dir={args.reference_dir} is not a checkout of "
             "stylegan2-ada-pytorch: git clone "
             "https://github.com/NVlabs/stylegan2-ada-pytorch")
  if args.steps % _REG_PERIOD:
    sys.exit(f"--steps must be a multiple of {_REG_PERIOD}, so that both "
             "sides time the same mix of regularized steps.")
  log = lambda message: print(message, file=sys.stderr, flush=True)
  script = os.path.abspath(__file__)
  load_start = os.getloadavg()
  workers = {}
  try:
    workers["ganjax"] = step_throughput.Worker(
        args, "jax", f"--gin_file={args.gin_file}", script=script)
    jax_info = workers["ganjax"].read()["ready"]
    log(f"ganjax compiled in {jax_info['compile_s']:.1f} s; batch "
        f"{jax_info['batch']}; settings {jax_info['settings']}")
    args.batch_size = jax_info["batch"]
    workers["PyTorch"] = step_throughput.Worker(
        args, "torch", f"--reference_dir={args.reference_dir}",
        f"--settings={json.dumps(jax_info['settings'])}", script=script)
    torch_info = workers["PyTorch"].read()["ready"]
    rates = {name: [] for name in workers}
    for r in range(args.repeats):
      order = list(workers.items())
      if r % 2:
        order.reverse()
      for name, w in order:
        rates[name].append(args.steps / w.ask(f"run {args.steps}")["seconds"])
      log(f"repeat {r + 1}/{args.repeats}: " + ", ".join(
          f"{name} {values[-1]:.2f}" for name, values in rates.items()) +
          f" steps/s (load {os.getloadavg()[0]:.2f})")
  finally:
    for w in workers.values():
      w.close()
  load_end = os.getloadavg()
  median = {name: statistics.median(v) for name, v in rates.items()}
  print(f"\nStyleGAN2 training steps/s, {args.gin_file}, batch "
        f"{args.batch_size}, {args.threads} threads, {args.steps} steps per "
        f"repeat, median (min–max) of {args.repeats} repeats; "
        f"{machine.cpu_model()}; jax {jax_info['jax']}, torch "
        f"{torch_info['torch']}. Load average {load_start[0]:.2f} at start, "
        f"{load_end[0]:.2f} at end.\n")
  print("| step | params G / D | steps/s | images/s | ratio to PyTorch |")
  print("|---|---:|---:|---:|---:|")
  for name, info in (("ganjax", jax_info), ("PyTorch", torch_info)):
    values = rates[name]
    print(f"| {name} | {info['g_params']:,} / {info['d_params']:,} | "
          f"{median[name]:.2f} ({min(values):.2f}–{max(values):.2f}) | "
          f"{median[name] * args.batch_size:.0f} | "
          f"{median[name] / median['PyTorch']:.2f} |")
  if (jax_info["g_params"], jax_info["d_params"]) != (
      torch_info["g_params"], torch_info["d_params"]):
    print("\nThe parameter counts differ: the two sides do not run the same "
          "networks.")


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--reference_dir", default="stylegan2-ada-pytorch",
                      help="A checkout of NVlabs/stylegan2-ada-pytorch.")
  parser.add_argument("--gin_file",
                      default="experiments/stylegan2/fashion_mnist_cpu.gin")
  parser.add_argument("--shape", default="32,32,1",
                      help="Image height,width,channels of the config.")
  parser.add_argument("--threads", type=int, default=2)
  parser.add_argument("--steps", type=int, default=_REG_PERIOD,
                      help=f"Timed steps per repeat (a multiple of "
                      f"{_REG_PERIOD}).")
  parser.add_argument("--repeats", type=int, default=3)
  parser.add_argument("--warmup", type=int, default=_REG_PERIOD,
                      help="Untimed steps after building/compiling.")
  # Internal: worker processes (and step_throughput.Worker's arguments).
  parser.add_argument("--worker", default="", help=argparse.SUPPRESS)
  parser.add_argument("--settings", default="", help=argparse.SUPPRESS)
  parser.add_argument("--batch_size", type=int, default=0,
                      help=argparse.SUPPRESS)
  parser.add_argument("--profile_ops", type=int, default=0,
                      help=argparse.SUPPRESS)
  args = parser.parse_args()
  args.shape = [int(n) for n in args.shape.split(",")]
  if not args.worker:
    parent(args)
    return
  step_throughput.pin(args.threads)
  if args.worker == "jax":
    jax_worker(args)
  else:
    torch_worker(args)


if __name__ == "__main__":
  main()
