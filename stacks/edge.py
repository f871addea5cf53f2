"""Edge stack: Traffic Manager across the app regions' front doors (deployed after every app stack): each
region's Application Gateway where the web tier is private, the web app itself otherwise."""

from __future__ import annotations

from collections.abc import Sequence

from constructs import Construct

from contract import HEALTH_PATH
from stacks.app_tier import AppStack
from stacks.base import PlatformStack
from stacks.config import EnvironmentConfig
from stacks.foundation import FoundationStack
from stacks.modules.traffic_manager import GlobalTrafficManager


class EdgeStack(PlatformStack):
    def __init__(
        self, scope: Construct, *, config: EnvironmentConfig, foundation: FoundationStack, apps: Sequence[AppStack]
    ) -> None:
        super().__init__(scope, "edge", config=config)
        self.traffic = GlobalTrafficManager(
            self, "TrafficManager", placement=self.placement("global"), interfaces=foundation.interfaces(),
            name=self.namer.name("traffic_manager"),
            routing=config.edge.routing,
            health_path=HEALTH_PATH,
            # The gateways' listeners answer for the custom domain only; the web apps answer for their own names.
            probe_host=config.edge.custom_domain if config.private_networking else None,
        )
        self.traffic.add_endpoints([(app.region, app.front_door_id) for app in apps])
