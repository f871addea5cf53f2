"""Tooling around the function app (functions/): its deployment package and the local listing replayer."""
