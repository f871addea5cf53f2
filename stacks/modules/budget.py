"""Cost Management budget on the environment's resource group, with e-mail alerts at each threshold."""

from __future__ import annotations

from collections.abc import Sequence

from cdktn import Fn, TerraformResourceLifecycle
from cdktn_provider_azurerm.consumption_budget_resource_group import (
    ConsumptionBudgetResourceGroup,
    ConsumptionBudgetResourceGroupNotification,
    ConsumptionBudgetResourceGroupTimePeriod,
)
from constructs import Construct

# Cost Management accepts a start date on the first of a month, no earlier than the current month for a
# monthly budget ("Past start date should be selected within the timegrain period", azurerm v4.81.0
# website/docs/r/consumption_budget_resource_group.html.markdown). Derived at apply time, so a deploy in any
# month works; ignored afterwards, because a new start date would replace the budget and reset its history.
CURRENT_MONTH_START = Fn.formatdate("YYYY-MM-01'T'00:00:00Z", Fn.timestamp())


class CostBudget(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, name: str, resource_group_id: str, amount: float,
        thresholds_percent: Sequence[int], contact_emails: Sequence[str], start_date: str | None = None,
    ) -> None:
        super().__init__(scope, id_)
        notifications = [
            ConsumptionBudgetResourceGroupNotification(
                enabled=True, threshold=threshold, operator="GreaterThanOrEqualTo",
                # Above 100 % alert on the forecast too, so the team hears before the money is spent.
                threshold_type="Forecasted" if threshold > 100 else "Actual",
                contact_emails=list(contact_emails),
            )
            for threshold in thresholds_percent
        ]
        self.budget = ConsumptionBudgetResourceGroup(
            self, "Budget",
            name=name,
            resource_group_id=resource_group_id,
            amount=amount,
            time_grain="Monthly",
            time_period=ConsumptionBudgetResourceGroupTimePeriod(
                start_date=f"{start_date}T00:00:00Z" if start_date else CURRENT_MONTH_START
            ),
            notification=notifications,
            lifecycle=TerraformResourceLifecycle(ignore_changes=["time_period"]),
        )
