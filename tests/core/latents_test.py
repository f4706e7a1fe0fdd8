"""Tests of ganjax.core.latents: linear and spherical paths between latents."""

import jax.numpy as jnp
import numpy as np
import pytest

from ganjax.core import latents


def test_paths_start_and_end_at_the_endpoints():
  z0, z1 = jnp.array([1.0, 2.0, -1.0]), jnp.array([0.5, -3.0, 2.0])
  for spherical in (False, True):
    path = latents.path(z0, z1, 6, spherical)
    assert path.shape == (6, 3)
    np.testing.assert_allclose(path[0], z0, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(path[-1], z1, rtol=1e-5, atol=1e-6)


def test_linear_midpoint_and_spherical_great_circle():
  z0, z1 = jnp.array([2.0, 0.0]), jnp.array([0.0, 2.0])
  np.testing.assert_allclose(latents.lerp(z0, z1, jnp.array([0.5]))[0],
                             [1.0, 1.0])
  # Slerp keeps the norm of equal-norm endpoints and turns at a steady rate.
  path = latents.slerp(z0, z1, jnp.linspace(0.0, 1.0, 5))
  np.testing.assert_allclose(jnp.linalg.norm(path, axis=1), 2.0, rtol=1e-6)
  angles = np.degrees(np.arctan2(path[:, 1], path[:, 0]))
  np.testing.assert_allclose(angles, [0.0, 22.5, 45.0, 67.5, 90.0],
                             atol=1e-4)
  # Norms are interpolated linearly.
  scaled = latents.slerp(z0, 3.0 * z1, jnp.array([0.5]))
  np.testing.assert_allclose(jnp.linalg.norm(scaled), 4.0, rtol=1e-6)


def test_parallel_endpoints_fall_back_to_a_straight_line():
  z0 = jnp.array([1.0, 1.0])
  path = latents.slerp(z0, 2.0 * z0, jnp.array([0.0, 0.5, 1.0]))
  np.testing.assert_allclose(path, [[1.0, 1.0], [1.5, 1.5], [2.0, 2.0]],
                             rtol=1e-6)
  assert np.isfinite(path).all()


def test_a_path_needs_two_steps():
  with pytest.raises(ValueError, match="at least 2 steps"):
    latents.path(jnp.zeros(2), jnp.ones(2), 1, True)
