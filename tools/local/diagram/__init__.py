"""Architecture pictures drawn from the synthesized stacks (cdktf.out/), so they cannot drift from the code.

`python -m tools.local.diagram` (or `make diagram`) writes docs/architecture/: overview.svg/.png (numbered flow and
domain boxes for one environment), <stack>.svg/.png (every resource and reference of one stack) and README.md.
"""
