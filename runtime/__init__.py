"""What both deployed apps (the web app in app/, the function app in functions/) share at run time: the price
model they serve (in-process ONNX or the Azure ML endpoint), the credentials they reach Azure with, where their
model folder is, and the settings that let them talk to the local emulators.

Both packagers ship this package whole (tools/deploy/packaging.py). It imports `contract` and `ml.carprice`
(the scoring core) and nothing from app/, functions/ or tools/.
"""
