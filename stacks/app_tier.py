"""App stack (one per app region): the regional web app that serves the car-price predictor and dashboard."""

from __future__ import annotations

from constructs import Construct

import contract as c
from stacks.base import PlatformStack
from stacks.config import EnvironmentConfig
from stacks.foundation import FoundationStack
from stacks.global_data import GlobalDataStack
from stacks.ml import MlStack
from stacks.modules.web_app import RegionalWebApp
from stacks.naming import region_code


class AppStack(PlatformStack):
    def __init__(
        self, scope: Construct, *, config: EnvironmentConfig, region: str, foundation: FoundationStack,
        global_data: GlobalDataStack, ml: MlStack,
    ) -> None:
        super().__init__(scope, f"app-{region}", config=config)
        self.region = region
        identity = foundation.identities["app"]
        settings = {
            c.SETTING_COSMOS_ENDPOINT: global_data.cosmos.account.endpoint,
            c.SETTING_COSMOS_DATABASE: c.COSMOS_DATABASE,
            c.SETTING_HISTORY_CONTAINER: c.HISTORY_CONTAINER,
            c.SETTING_BATCH_CONTAINER: c.BATCH_CONTAINER,
            c.SETTING_SCORING_MODE: "local",
            c.SETTING_ENDPOINT_URL: f"https://{c.ml_endpoint_name(c.ML_ONLINE_ENDPOINT, config.name)}"
                                    f".{config.location}.inference.ml.azure.com/score",
            c.SETTING_ENDPOINT_SCOPE: c.AML_ENDPOINT_TOKEN_SCOPE,
            c.SETTING_REGION: region,
            c.SETTING_OUTBOX_DIR: "/home/data/outbox",  # /home is the app's persistent, shared storage
            c.SETTING_MANAGED_IDENTITY_CLIENT_ID: identity.client_id,
            # A Key Vault reference: App Service resolves it with the app identity; no secret in settings.
            c.SETTING_APPINSIGHTS: f"@Microsoft.KeyVault(SecretUri={foundation.appinsights_secret.versionless_id})",
            "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": f"Authorization=AAD;ClientId={identity.client_id}",
            "SCM_DO_BUILD_DURING_DEPLOYMENT": "true",  # Oryx installs requirements.txt from the package
        }
        code = region_code(region)
        self.web = RegionalWebApp(
            self, "WebApp", placement=self.placement(region), interfaces=foundation.interfaces(),
            plan_name=self.namer.name("app_service_plan", region=region),
            app_name=self.namer.name("web_app", code),
            sku=config.app.sku,
            worker_count=config.app.worker_count,
            zone_redundant=config.app.zone_redundant,
            subnet_id=foundation.app_subnet_ids[region],
            identity_id=identity.id,
            app_settings=settings,
            health_path=c.HEALTH_PATH,
            start_command=c.APP_START_COMMAND,
            python_version=c.APP_PYTHON_VERSION,
            staging_slot=config.app.staging_slot,
        )
