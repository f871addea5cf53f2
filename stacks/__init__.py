"""The platform's CDK Terrain app (stacks.main) and its constructs."""

import os

# Before cdktn starts its Node process: a token's creation stack only decorates the error for a token that
# cannot resolve, and capturing one for each of the platform's thousands of tokens costs about 6% of a synth.
os.environ.setdefault("CDKTN_DISABLE_CREATION_STACK", "true")
