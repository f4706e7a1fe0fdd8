r"""Labels the images of a run's train set whose label was withheld, for a
run on the inferred labels (S²GAN; Lucic et al. 2019).

  python -m ganjax.infer_labels --workdir=DIR --out=labels.npy \
      [--method=probe|head] [--step=N|best [--metric=fid]]

`probe` (S²GAN) fits a linear classifier on D's features of the labeled
images (train the run with GAN.terms = [@terms.Rotation()] and
GAN.adversarial_weight = 0 for a rotation-learnt representation); `head`
uses D's class head (S3GAN). The
file holds [N] int32 labels in the data set's order: the known ones kept,
the rest inferred. Train on them with `datasets.tfds.label_file` (or
`datasets.digits.label_file`).
"""

from ganjax import quiet_tensorflow  # pylint: disable=unused-import  # First.
from absl import app
from absl import flags
import numpy as np

from ganjax import console
from ganjax import step_flags
from ganjax.run import registry  # pylint: disable=unused-import
from ganjax.run import run_dir

_WORKDIR = flags.DEFINE_string("workdir", None, "A training run's directory.",
                               required=True)
_OUT = flags.DEFINE_string("out", None, "The .npy file to write.",
                           required=True)
_METHOD = flags.DEFINE_enum("method", "probe", ["probe", "head"],
                            "A linear probe on D's features, or D's class "
                            "head.")


def main(argv):
  console.setup()
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  labels = run_dir.inferred_train_labels(
      _WORKDIR.value, _METHOD.value, step_flags.chosen_step(_WORKDIR.value))
  np.save(_OUT.value, labels)
  print(f"Wrote {len(labels)} labels to {_OUT.value}.")


if __name__ == "__main__":
  console.run(main)
