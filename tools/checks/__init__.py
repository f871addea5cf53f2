"""Checks that read the synthesized platform or the repository and fail a build: the policy scan, the provider's
plan-time rules, the pipelines' dry run, the reachability model and the assistant's evaluation."""
