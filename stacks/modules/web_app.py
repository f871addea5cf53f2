"""A regional Linux web app (Python) on its own App Service plan, with the App Service secure defaults.

Every app has its `sites` private endpoint (and the staging slot's `sites-staging`): the region's Application
Gateway and the deploy agents come in through it. Private (`Interfaces.network_access` closed): nothing else.
Public: the site also answers its `allowed_ip_ranges` and Traffic Manager's probes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cdktn_provider_azurerm.linux_web_app import (
    LinuxWebApp,
    LinuxWebAppIdentity,
    LinuxWebAppLogs,
    LinuxWebAppLogsHttpLogs,
    LinuxWebAppLogsHttpLogsFileSystem,
    LinuxWebAppSiteConfig,
    LinuxWebAppSiteConfigApplicationStack,
    LinuxWebAppSiteConfigIpRestriction,
)
from cdktn_provider_azurerm.linux_web_app_slot import (
    LinuxWebAppSlot,
    LinuxWebAppSlotIdentity,
    LinuxWebAppSlotLogs,
    LinuxWebAppSlotLogsHttpLogs,
    LinuxWebAppSlotLogsHttpLogsFileSystem,
    LinuxWebAppSlotSiteConfig,
    LinuxWebAppSlotSiteConfigApplicationStack,
    LinuxWebAppSlotSiteConfigIpRestriction,
)
from cdktn_provider_azurerm.service_plan import ServicePlan
from constructs import Construct

from stacks.modules.identity import ManagedIdentity
from stacks.modules.interfaces import Interfaces, Placement, StandardInterfaces

# Settings common to the site and its slot: the secure transport and the Python start-up.
_SITE: dict[str, Any] = {
    "minimum_tls_version": "1.2",
    "scm_minimum_tls_version": "1.2",
    "ftps_state": "Disabled",
    "http2_enabled": True,
    "always_on": True,
    "remote_debugging_enabled": False,
    "vnet_route_all_enabled": True,  # outbound traffic goes through the VNet (private endpoints, NSGs)
    "health_check_eviction_time_in_min": 5,
}


def _access_rules(restriction: type, allowed_ip_ranges: Sequence[str]) -> dict[str, Any]:
    """Site-config access restrictions of a public app (`restriction`: the site's or the slot's rule type):
    the team's ranges and Traffic Manager's probes. The deployment (SCM) site keeps its own default, so hosted
    pipeline agents can deploy; it accepts Entra ID tokens only (basic publishing credentials are off)."""
    rules = [
        restriction(name=f"allowed-{index}", priority=100 + index, action="Allow", ip_address=cidr)
        for index, cidr in enumerate(allowed_ip_ranges)
    ]
    rules.append(
        restriction(name="traffic-manager-probes", priority=300, action="Allow", service_tag="AzureTrafficManager")
    )
    return {
        "ip_restriction": rules,
        "ip_restriction_default_action": "Deny",
    }


class RegionalWebApp(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, placement: Placement, interfaces: Interfaces, plan_name: str,
        app_name: str, sku: str, worker_count: int, zone_redundant: bool, subnet_id: str, identity: ManagedIdentity,
        app_settings: Mapping[str, str], health_path: str, start_command: str, python_version: str,
        staging_slot: bool,
    ) -> None:
        super().__init__(scope, id_)
        self._network = network = interfaces.network_access
        self.plan = ServicePlan(
            self, "Plan",
            name=plan_name,
            location=placement.location,
            resource_group_name=placement.resource_group_name,
            tags=placement.tags,
            os_type="Linux",
            sku_name=sku,
            worker_count=worker_count,
            zone_balancing_enabled=zone_redundant,
        )
        common: dict[str, Any] = {
            "https_only": True,
            "client_affinity_enabled": False,
            "public_network_access_enabled": network.public,
            "ftp_publish_basic_authentication_enabled": False,
            "webdeploy_publish_basic_authentication_enabled": False,
            "virtual_network_subnet_id": subnet_id,
            "key_vault_reference_identity_id": identity.resource_id,
            "app_settings": dict(app_settings),
            "tags": placement.tags,
        }
        site: dict[str, Any] = {**_SITE, "health_check_path": health_path, "app_command_line": start_command,
                "worker_count": worker_count}
        self.app = self._app(placement, app_name, identity, site, common, python_version)
        # Deployments land in the staging slot, warm up on the health path, then swap into production.
        self.staging = self._staging_slot(identity, site, common, python_version) if staging_slot else None
        # Private endpoints in every environment: the deploy agents (peered, linked to privatelink.azurewebsites.net)
        # reach the site and its deployment site through them; a public app keeps its access restrictions for
        # everyone else, which do not apply to private endpoint traffic.
        endpoints = ["sites", *(["sites-staging"] if self.staging else [])]
        standard = StandardInterfaces(self, placement, interfaces)
        standard.apply(resource_id=self.app.id, resource_name=app_name, private_endpoint_subresources=endpoints)
        self.endpoints = standard.endpoints

    def _app(
        self, placement: Placement, app_name: str, identity: ManagedIdentity, site: dict[str, Any],
        common: dict[str, Any], python_version: str,
    ) -> LinuxWebApp:
        return LinuxWebApp(
            self, "App",
            name=app_name,
            location=placement.location,
            resource_group_name=placement.resource_group_name,
            service_plan_id=self.plan.id,
            identity=LinuxWebAppIdentity(type="UserAssigned", identity_ids=[identity.resource_id]),
            site_config=LinuxWebAppSiteConfig(
                **site, **self._access_rules(LinuxWebAppSiteConfigIpRestriction),
                application_stack=LinuxWebAppSiteConfigApplicationStack(python_version=python_version),
            ),
            logs=LinuxWebAppLogs(
                detailed_error_messages=True, failed_request_tracing=True,
                http_logs=LinuxWebAppLogsHttpLogs(
                    file_system=LinuxWebAppLogsHttpLogsFileSystem(retention_in_days=7, retention_in_mb=100)
                ),
            ),
            **common,
        )

    def _staging_slot(
        self, identity: ManagedIdentity, site: dict[str, Any], common: dict[str, Any], python_version: str,
    ) -> LinuxWebAppSlot:
        return LinuxWebAppSlot(
            self, "StagingSlot",
            name="staging",
            app_service_id=self.app.id,
            identity=LinuxWebAppSlotIdentity(type="UserAssigned", identity_ids=[identity.resource_id]),
            site_config=LinuxWebAppSlotSiteConfig(
                **site, **self._access_rules(LinuxWebAppSlotSiteConfigIpRestriction),
                application_stack=LinuxWebAppSlotSiteConfigApplicationStack(python_version=python_version),
            ),
            logs=LinuxWebAppSlotLogs(
                detailed_error_messages=True, failed_request_tracing=True,
                http_logs=LinuxWebAppSlotLogsHttpLogs(
                    file_system=LinuxWebAppSlotLogsHttpLogsFileSystem(retention_in_days=7, retention_in_mb=100)
                ),
            ),
            **common,
        )

    def _access_rules(self, restriction: type) -> dict[str, Any]:
        """A public app's access restrictions (none for a private one: only its endpoints reach it)."""
        network = self._network
        return _access_rules(restriction, network.allowed_ip_ranges) if network.public else {}
