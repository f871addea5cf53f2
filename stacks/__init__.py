"""The platform's CDK Terrain app (stacks.main) and its constructs."""

import os

# Before cdktn starts its Node process: a token's creation stack only decorates the error for a token that
# cannot resolve, and capturing one for each of the platform's thousands of tokens costs about 6% of a synth.
os.environ.setdefault("CDKTN_DISABLE_CREATION_STACK", "true")

# How a synth runs (cdktf.json, `make synth`, the tools): `python -O`, which skips the jsii bindings' own
# typeguard checks of every argument. The jsii kernel validates each value again on arrival and names the
# type, key and value it refuses; mypy checks stacks/ before that; the tests synthesize with the checks on.
# Skipping them saves 7-12% of a synth here, with byte-identical output
# (tests/stacks/test_synth_command.py).
SYNTH_PYTHON_FLAGS = ("-O",)
SYNTH_ARGS = (*SYNTH_PYTHON_FLAGS, "-m", "stacks.main")
