"""App stack (one per app region): the regional web app that serves the car-price predictor and dashboard.

Where networking is private the app takes no public traffic: the region's Application Gateway (WAF) is its
only way in, through the app's private endpoint. Otherwise (dev) the app is public, open to the team's IP
ranges and Traffic Manager's probes only.
"""

from __future__ import annotations

from constructs import Construct

import contract as c
from stacks.base import PlatformStack, present
from stacks.config import EnvironmentConfig
from stacks.foundation import FoundationStack
from stacks.genai import GenAiStack
from stacks.global_data import GlobalDataStack
from stacks.ml import MlStack
from stacks.modules.app_gateway import GatewaySizing, RegionalGateway
from stacks.modules.web_app import RegionalWebApp
from stacks.naming import region_code


class AppStack(PlatformStack):
    def __init__(
        self, scope: Construct, *, config: EnvironmentConfig, region: str, foundation: FoundationStack,
        global_data: GlobalDataStack, ml: MlStack, genai: GenAiStack | None = None,
    ) -> None:
        super().__init__(scope, f"app-{region}", config=config)
        self.region = region
        code = region_code(region)
        self.web = RegionalWebApp(
            self, "WebApp", placement=self.placement(region), interfaces=foundation.interfaces(region=region),
            plan_name=self.namer.name("app_service_plan", region=region),
            app_name=self.namer.name("web_app", code),
            sku=config.app.sku,
            worker_count=config.app.worker_count,
            zone_redundant=config.app.zone_redundant,
            subnet_id=foundation.app_subnet_ids[region],
            identity=foundation.identities["app"],
            app_settings=self._app_settings(foundation, global_data, ml, genai),
            health_path=c.HEALTH_PATH,
            start_command=c.APP_START_COMMAND,
            python_version=c.APP_PYTHON_VERSION,
            staging_slot=config.app.staging_slot,
        )
        # A private app is reached through its region's WAF gateway.
        self.gateway = None if foundation.network_access.public else self._gateway(foundation)

    def _app_settings(
        self, foundation: FoundationStack, global_data: GlobalDataStack, ml: MlStack, genai: GenAiStack | None
    ) -> dict[str, str]:
        identity = foundation.identities["app"]
        return {
            c.SETTING_COSMOS_ENDPOINT: global_data.cosmos.account.endpoint,
            c.SETTING_COSMOS_DATABASE: c.COSMOS_DATABASE,
            c.SETTING_HISTORY_CONTAINER: c.HISTORY_CONTAINER,
            c.SETTING_BATCH_CONTAINER: c.BATCH_CONTAINER,
            c.SETTING_SCORING_MODE: "local",
            c.SETTING_ENDPOINT_URL: ml.scoring_url,
            c.SETTING_ENDPOINT_TOKEN_URL: ml.scoring_token_url,
            c.SETTING_ENDPOINT_SCOPE: c.AML_ENDPOINT_TOKEN_SCOPE,
            c.SETTING_REGION: self.region,
            c.SETTING_OUTBOX_DIR: "/home/data/outbox",  # /home is the app's persistent, shared storage
            c.SETTING_MANAGED_IDENTITY_CLIENT_ID: identity.client_id,
            # A Key Vault reference: App Service resolves it with the app identity; no secret in settings.
            c.SETTING_APPINSIGHTS: f"@Microsoft.KeyVault(SecretUri={foundation.appinsights_secret.versionless_id})",
            "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": f"Authorization=AAD;ClientId={identity.client_id}",
            "SCM_DO_BUILD_DURING_DEPLOYMENT": "true",  # Oryx installs requirements.txt from the package
            **(genai.app_settings(chat_history=True) if genai else {}),
        }

    def _gateway(self, foundation: FoundationStack) -> RegionalGateway:
        config, region = self.config, self.region
        certificate = present(foundation.gateway_certificate_secret_id, "a gateway needs the foundation's certificate")
        return RegionalGateway(
            self, "Gateway", placement=self.placement(region), interfaces=foundation.interfaces(region=region),
            name=self.namer.name("application_gateway", region=region),
            policy_name=self.namer.name("waf_policy", region=region),
            public_ip_name=self.namer.name("public_ip", "agw", region),
            dns_label=self.namer.name("public_ip_dns_label", region=region),
            subnet_id=foundation.gateway_subnet_ids[region],
            identity=foundation.identities["gateway"],
            certificate_secret_id=certificate,
            host_name=config.edge.custom_domain,
            backend_fqdn=self.web.app.default_hostname,
            health_path=c.HEALTH_PATH,
            sizing=GatewaySizing(
                min_capacity=config.edge.gateway_min_capacity, max_capacity=config.edge.gateway_max_capacity,
                zone_redundant=config.app.zone_redundant,
            ),
            depends_on=self.web.endpoints,
        )

    @property
    def front_door_id(self) -> str:
        """What Traffic Manager targets in this region: the gateway's public IP, or the public web app."""
        return self.gateway.public_ip.id if self.gateway else self.web.app.id
