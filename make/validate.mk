# Plan-time validation from the azurerm provider's own code (tools/checks/provider_rules/).
# `make validate` checks every literal in cdktf.out/ against the committed rules table (synthesizing first when
# cdktf.out/ is stale); `make provider-rules` rebuilds that table from a provider git mirror (maintainers, on a bump).
PROVIDER_MIRROR ?= /work/.mirror/hashicorp+terraform-provider-azurerm/repo
PROVIDER_TAG ?= v4.81.0

AZAPI_MIRROR ?= /work/.mirror/Azure+terraform-provider-azapi/repo
AZAPI_REF ?= HEAD

.PHONY: validate provider-rules azapi-types
validate: $(SETUP_STAMP)  ## check cdktf.out/ against the provider's plan-time rules and azapi body types, then network reachability
	@$(PY) -m tools.checks.provider_rules.check
	@$(PY) -m tools.checks.reachability --no-synth

provider-rules: $(SETUP_STAMP)  ## rebuild tools/checks/provider_rules/azurerm-*.json from the provider source (PROVIDER_MIRROR, PROVIDER_TAG)
	@$(PY) -m tools.checks.provider_rules.extract --mirror $(PROVIDER_MIRROR) --tag $(PROVIDER_TAG) \
		--out tools/checks/provider_rules/azurerm-$(patsubst v%,%,$(PROVIDER_TAG)).json

azapi-types: $(SETUP_STAMP)  ## rebuild tools/checks/provider_rules/azapi-types.json (Azure's types for the stacks' azapi bodies) from an azapi mirror
	@$(PY) -m tools.checks.provider_rules.azapi_extract --mirror $(AZAPI_MIRROR) --ref $(AZAPI_REF)
