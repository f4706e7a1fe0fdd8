"""A trained G as files other programs load: a serialized `jax.export`
artifact (StableHLO; any JAX program runs it, no ganjax needed) and a
TensorFlow SavedModel (jax2tf; TensorFlow, TF Serving, TF.js converters),
each beside a README of its inputs and outputs. G's parameters are inside.

The function is G in inference mode, as `ganjax.sample` calls it:
(z[, label][, noise_seed]) ↦ images in [−1, 1], NHWC, for any batch size.
"""

import json
import os
from typing import Any, Callable

import jax
import jax.numpy as jnp

from ganjax.core import gan as gan_lib
from ganjax.core import state as state_lib

STABLEHLO = "generator.jax_export"
SAVED_MODEL = "saved_model"


def _draws_noise(gan: gan_lib.GAN) -> bool:
  """Whether G draws its own noise (StyleGAN2's noise inputs)."""
  return getattr(gan.generator, "noise_mode", "none") == "random"


def inputs(gan: gan_lib.GAN) -> dict[str, jax.ShapeDtypeStruct]:
  """The exported function's inputs, in order, with a symbolic batch `b`:
  z, then the label of a conditional G, then the noise seed (the raw data
  of a threefry key) of a G that draws noise."""
  batch = jax.export.symbolic_shape("b")[0]
  specs = {"z": jax.ShapeDtypeStruct((batch, gan.z_dim), jnp.float32)}
  if gan.conditional:
    specs["label"] = jax.ShapeDtypeStruct((batch,), jnp.int32)
  if _draws_noise(gan):
    specs["noise_seed"] = jax.ShapeDtypeStruct((2,), jnp.uint32)
  return specs


def generator_function(gan: gan_lib.GAN) -> Callable[..., jax.Array]:
  """(params, *inputs) ↦ G's images: the exported computation, with G's
  parameters and collections (`parameters`) as its first argument."""
  names = list(inputs(gan))

  def generate(params, *args):
    named = dict(zip(names, args))
    rng = (jax.random.wrap_key_data(named["noise_seed"])
           if "noise_seed" in named else None)
    images, _ = gan.call(gan.generator, params["params"],
                         params["collections"], named["z"],
                         gan.one_hot(named.get("label")), train=False,
                         rng=rng)
    return images

  return generate


def parameters(state: state_lib.GANState, use_ema: bool) -> dict[str, Any]:
  """G's weights (the EMA's with `use_ema`) and collections, on the host."""
  return jax.device_get({
      "params": state.ema_params if use_ema else state.g_params,
      "collections": state.g_collections})


def write_stablehlo(gan: gan_lib.GAN, state: state_lib.GANState,
                    use_ema: bool, path: str) -> None:
  """Serializes G with its parameters (constants of the module) to `path`;
  `jax.export.deserialize(open(path, "rb").read()).call(*inputs)` runs it."""
  params = parameters(state, use_ema)
  fn = generator_function(gan)
  exported = jax.export.export(jax.jit(lambda *args: fn(params, *args)))(
      *inputs(gan).values())
  with open(path, "wb") as f:
    f.write(exported.serialize())


def write_saved_model(gan: gan_lib.GAN, state: state_lib.GANState,
                      use_ema: bool, path: str) -> None:
  """Writes G as a TensorFlow SavedModel with a `generate` signature over
  `inputs`; its parameters are variables of the model."""
  # TensorFlow is imported here: only this export needs it.
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from jax.experimental import jax2tf  # pylint: disable=g-import-not-at-top
  specs = inputs(gan)
  batched = {name: name != "noise_seed" for name in specs}
  variables = tf.nest.map_structure(tf.Variable, parameters(state, use_ema))
  converted = jax2tf.convert(
      generator_function(gan),
      polymorphic_shapes=[None] + ["(b, ...)" if batched[name] else None
                                   for name in specs],
      with_gradient=False)
  signature = [tf.TensorSpec([None, *spec.shape[1:]] if batched[name]
                             else spec.shape, tf.as_dtype(spec.dtype),
                             name=name)
               for name, spec in specs.items()]
  module = tf.Module()
  module.variables_of_g = tf.nest.flatten(variables)
  module.generate = tf.function(lambda *args: converted(variables, *args),
                                input_signature=signature, autograph=False)
  tf.saved_model.save(module, path,
                      signatures={"serving_default": module.generate})


def write_readme(gan: gan_lib.GAN, directory: str, source: str,
                 step: int, use_ema: bool, image_shape: tuple[int, ...]
                 ) -> None:
  """The README (and inputs.json) of an export: what goes in, what comes
  out, and where it came from."""
  specs = inputs(gan)
  described = {
      "z": (f"float32 [b, {gan.z_dim}]: the latents, drawn from "
            + ("N(0, I)" if gan.prior == "normal" else "U[-1, 1]")
            + " (ganjax.sample: GAN.sample_z)"),
      "label": (f"int32 [b]: the class of each image, in [0, "
                f"{gan.num_classes})"),
      "noise_seed": ("uint32 [2]: the raw data of a threefry key "
                     "(jax.random.key_data) from which G draws its noise "
                     "inputs"),
  }
  listed = {name: described[name] for name in specs}
  with open(os.path.join(directory, "inputs.json"), "w") as f:
    json.dump({"inputs": listed, "output": list(image_shape)}, f, indent=1)
  lines = [
      "# A ganjax generator", "",
      f"Exported from `{source}`, step {step}, "
      f"{'EMA' if use_ema else 'trained'} weights.", "",
      "Inputs, in order (b: any batch size):", "",
      *[f"- `{name}`: {text}" for name, text in listed.items()], "",
      f"Output: float32 [b, {', '.join(map(str, image_shape))}] images in "
      "[-1, 1], NHWC; as uint8: clip(round((x + 1) * 127.5), 0, 255).", "",
      f"- `{STABLEHLO}`: `jax.export.deserialize(open(path, 'rb').read())"
      ".call(*inputs)`.",
      f"- `{SAVED_MODEL}/`: `tf.saved_model.load(path).generate(*inputs)` "
      "(also its `serving_default` signature).", ""]
  with open(os.path.join(directory, "README.md"), "w") as f:
    f.write("\n".join(lines))

