"""Traffic Manager in front of the app regions, probing each region's health path over HTTPS."""

from __future__ import annotations

from collections.abc import Sequence

from cdktn_provider_azurerm.traffic_manager_azure_endpoint import TrafficManagerAzureEndpoint
from cdktn_provider_azurerm.traffic_manager_profile import (
    TrafficManagerProfile,
    TrafficManagerProfileDnsConfig,
    TrafficManagerProfileMonitorConfig,
    TrafficManagerProfileMonitorConfigCustomHeader,
)
from constructs import Construct

from stacks.modules.interfaces import Interfaces, Placement, StandardInterfaces


class GlobalTrafficManager(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, placement: Placement, interfaces: Interfaces, name: str, routing: str,
        health_path: str, probe_host: str | None = None,
    ) -> None:
        """`probe_host`: the Host header of the health probes, where the front doors answer for one name only
        (the gateways' custom domain)."""
        super().__init__(scope, id_)
        self.profile = TrafficManagerProfile(
            self, "Profile",
            name=name,
            resource_group_name=placement.resource_group_name,
            tags=placement.tags,
            traffic_routing_method=routing,
            dns_config=TrafficManagerProfileDnsConfig(relative_name=name, ttl=60),
            monitor_config=TrafficManagerProfileMonitorConfig(
                protocol="HTTPS", port=443, path=health_path, expected_status_code_ranges=["200-200"],
                interval_in_seconds=30, timeout_in_seconds=10, tolerated_number_of_failures=3,
                custom_header=(
                    [TrafficManagerProfileMonitorConfigCustomHeader(name="host", value=probe_host)]
                    if probe_host else None
                ),
            ),
            traffic_view_enabled=True,
        )
        StandardInterfaces(self, placement, interfaces).apply(resource_id=self.profile.id, resource_name=name)

    def add_endpoints(self, apps: Sequence[tuple[str, str]]) -> None:
        """One Azure endpoint per (region, target id): a web app, or a public IP with a DNS name (a region's
        Application Gateway); priority follows the order of the app regions."""
        profile_id = self.profile.id  # read once: each read is a round trip to Node
        for priority, (region, app_id) in enumerate(apps, start=1):
            TrafficManagerAzureEndpoint(
                self, f"Endpoint{region.title()}",
                name=f"app-{region}",
                profile_id=profile_id,
                target_resource_id=app_id,
                priority=priority,
                weight=100,
                enabled=True,
            )
