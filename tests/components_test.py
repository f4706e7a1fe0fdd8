"""Tests of ganjax.components: the README's generated component section."""

import os

import pytest

from ganjax import components

from tests import paths

_README = os.path.join(paths.REPO, "README.md")


def _section() -> str:
  with open(_README, encoding="utf-8") as f:
    readme = f.read()
  return readme[readme.index(components.START):
                readme.index(components.END) + len(components.END)]


def test_every_registered_component_is_in_the_readme():
  section = _section()
  missing = [n for n in components.registered() if f"| `{n}` |" not in section]
  assert not missing, (f"{missing} are not in the README; run python -m "
                       f"ganjax.components --readme=README.md")
  for name, _ in components.gan_options():
    assert f"| `{name}` |" in section


def test_readme_section_is_the_generated_one():
  assert _section() == components.markdown(), (
      "The README's component section is stale; run python -m "
      "ganjax.components --readme=README.md")


def test_families_and_names():
  names = components.registered()
  assert {"losses.hinge", "penalties.r1", "normalizers.spectral_norm",
          "models.resnet_biggan.Generator", "datasets.tfds", "metrics.fid",
          "GAN", "train", "progressive.schedule", "terms.Rotation"} <= set(names)
  assert not any(n.startswith(("gin.", "ganjax.")) for n in names)
  assert components.family("losses.hinge").startswith("Losses")
  assert components.family("train") == "Run settings"
  assert "GAN.terms" in dict(components.gan_options())
  assert components.family("terms.Rotation").startswith("Objective terms")


@pytest.mark.parametrize("text, want", [
    ("Lim & Ye 2017, as used by SAGAN", "Lim & Ye 2017"),
    ("see (Gulrajani et al. 2017) and", "Gulrajani et al. 2017"),
    ("de Vries et al.\n  2017", "de Vries et al. 2017"),
    ("Compare GAN's L2 penalty", "—"),
])
def test_citation(text, want):
  assert components.citation(None, text) == want


def test_replace_section_needs_the_markers():
  assert components.replace_section(
      f"a {components.START} old {components.END} b", "new") == "a new b"
  with pytest.raises(ValueError, match="lacks the markers"):
    components.replace_section("no markers", "new")
