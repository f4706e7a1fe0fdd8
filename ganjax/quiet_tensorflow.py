"""Imported first by the commands: TensorFlow's load notices stay off their
console.

TensorFlow, which TFDS and TensorBoard's writer load, prints C++ notices
(oneDNN, CPU features) as it loads. ganjax computes nothing with it, so the
commands turn them off before it loads, unless the environment sets them:
TF_ENABLE_ONEDNN_OPTS=0 (which touches TensorFlow's own ops only) and
TF_CPP_MIN_LOG_LEVEL=1. Library code does not import this module.
"""

import os

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
