# Architecture pictures drawn from cdktf.out/ (synthesizes first when it has no stacks for the environment).
DIAGRAM_ENV ?= prod

.PHONY: diagram
diagram: $(SETUP_STAMP)  ## draw docs/architecture/ (overview + one picture per stack) from cdktf.out/ (DIAGRAM_ENV=prod)
	@$(PY) -m tools.local.diagram --env $(DIAGRAM_ENV)
