"""The required-tags policy's list of taggable types matches the pinned provider bindings."""

from __future__ import annotations

from tools.checks.scan.taggable import TAGGABLE_LIST, taggable_types_from_provider


def test_committed_taggable_list_is_current_with_the_provider():
    committed = [line for line in TAGGABLE_LIST.read_text().splitlines() if line and not line.startswith("#")]
    assert committed == taggable_types_from_provider(), "run: python -m tools.checks.scan.taggable"


def test_list_has_taggable_types_and_leaves_out_those_without_tags():
    types = set(taggable_types_from_provider())
    expected = {"azurerm_storage_account", "azurerm_key_vault", "azurerm_private_endpoint", "azurerm_linux_web_app"}
    assert expected <= types
    assert not {"azurerm_role_assignment", "azurerm_monitor_diagnostic_setting", "azurerm_storage_container"} & types
