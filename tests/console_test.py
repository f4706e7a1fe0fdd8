"""Tests of ganjax.console: how the commands end on bad input."""

import errno

from absl import flags
from absl.testing import flagsaver
import pytest

from ganjax import console


def _failing(error):
  def main(argv):
    del argv
    raise error
  return main


@pytest.mark.parametrize("error", [
    ValueError("Unknown data set 'cifar100'; choose one of [...]."),
    FileNotFoundError("Gin file 'x.gin' not found."),
    OSError(errno.ENOSPC, "Not enough disk space for a checkpoint."),
    FloatingPointError("G made non-finite samples at step 3."),
    RuntimeError("Required bindings for `train` not provided in config: "
                 "['num_steps']"),  # gin's.
])
def test_input_errors_end_with_their_message_and_no_traceback(error, capsys):
  with pytest.raises(SystemExit) as exit_:
    console.guarded(_failing(error))(["command"])
  # sys.exit(str) prints the string to stderr and exits with status 1.
  assert exit_.value.code == f"Error: {error}"
  assert "Traceback" not in capsys.readouterr().err


@pytest.fixture
def parsed_flags():
  """absl's flags as a command has them, restored afterwards."""
  was_parsed = flags.FLAGS.is_parsed()
  flags.FLAGS.mark_as_parsed()
  with flagsaver.flagsaver():
    yield flags.FLAGS
  if not was_parsed:
    flags.FLAGS.unparse_flags()


def test_verbosity_adds_the_traceback(parsed_flags, capsys):
  parsed_flags.verbosity = 1
  with pytest.raises(SystemExit):
    console.guarded(_failing(ValueError("bad")))(["command"])
  assert "Traceback" in capsys.readouterr().err


def test_other_errors_are_bugs_and_keep_their_traceback():
  with pytest.raises(TypeError):
    console.guarded(_failing(TypeError("a bug")))(["command"])


def test_a_command_may_add_its_own_errors():
  class BusyError(RuntimeError):
    pass
  with pytest.raises(SystemExit) as exit_:
    console.guarded(_failing(BusyError("in use")), (BusyError,))(["command"])
  assert exit_.value.code == "Error: in use"
