"""Monitoring: the environment's Log Analytics workspace and workspace-based Application Insights."""

from __future__ import annotations

from cdktn import TerraformResource
from cdktn_provider_azurerm.application_insights import ApplicationInsights
from cdktn_provider_azurerm.log_analytics_workspace import LogAnalyticsWorkspace
from constructs import Construct

from stacks.modules.interfaces import Diagnostics, Grants, Placement, RoleAssignment


class Monitoring(Construct):
    """Every other module sends its diagnostics here (`monitoring.diagnostics`)."""

    def __init__(
        self, scope: Construct, id_: str, *, placement: Placement, workspace_name: str, insights_name: str,
        retention_days: int,
    ) -> None:
        super().__init__(scope, id_)
        self.workspace = LogAnalyticsWorkspace(
            self, "Workspace",
            name=workspace_name,
            location=placement.location,
            resource_group_name=placement.resource_group_name,
            tags=placement.tags,
            sku="PerGB2018",
            retention_in_days=retention_days,
            # Queries and ingestion only with Entra ID tokens: no shared workspace keys in use.
            local_authentication_enabled=False,
        )
        self.insights = ApplicationInsights(
            self, "Insights",
            name=insights_name,
            location=placement.location,
            resource_group_name=placement.resource_group_name,
            tags=placement.tags,
            workspace_id=self.workspace.id,
            application_type="web",
            retention_in_days=retention_days,
            # Telemetry is accepted only with an Entra ID token (the app's managed identity).
            local_authentication_enabled=False,  # `local_authentication_disabled` is deprecated in 4.x
            internet_ingestion_enabled=True,
        )
        self.diagnostics = Diagnostics(workspace_id=self.workspace.id)
        self._grants = Grants(self)

    def allow_telemetry_from(self, name: str, principal_id: str) -> TerraformResource:
        """Let an identity send telemetry: with local authentication off, Application Insights accepts only
        Entra ID tokens whose identity holds Monitoring Metrics Publisher on the component ("Microsoft Entra
        authentication for Application Insights", Microsoft Learn). `name` keys the grant's logical ID."""
        return self._grants.one(
            f"TelemetryPublisher{name}", self.insights.id, RoleAssignment(principal_id, "Monitoring Metrics Publisher")
        )
