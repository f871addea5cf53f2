"""A wait after role assignments: Azure RBAC takes minutes to apply a new grant everywhere, so whatever uses
it right away (a data-plane read, a service validating its identity's access) waits first, as the Azure
Verified Modules do with `time_sleep`."""

from __future__ import annotations

import weakref
from collections.abc import Sequence

from cdktn import Fn, TerraformResource, TerraformStack
from cdktn_provider_time.provider import TimeProvider
from cdktn_provider_time.sleep import Sleep
from constructs import Construct

# Azure RBAC grants take minutes to reach a service's data plane ("Troubleshoot Azure RBAC", Microsoft Learn:
# up to 10 minutes; Key Vault typically within a few); the AVM Key Vault module waits the same way
# (`wait_for_rbac_before_key_operations`).
ROLE_PROPAGATION_WAIT = "180s"

# Stacks given their time provider, kept on the Python side (asking Node costs two round trips per wait).
_TIMED_STACKS: weakref.WeakSet[TerraformStack] = weakref.WeakSet()


def after_grants(scope: Construct, id_: str, grants: Sequence[TerraformResource]) -> Sleep:
    """A sleep that ends `ROLE_PROPAGATION_WAIT` after `grants` exist, and runs again when one is replaced."""
    stack = TerraformStack.of(scope)
    if stack not in _TIMED_STACKS:
        TimeProvider(stack, "time")
        _TIMED_STACKS.add(stack)
    return Sleep(
        scope, id_,
        create_duration=ROLE_PROPAGATION_WAIT,
        triggers={"role_assignments": Fn.join(",", [grant.get_string_attribute("id") for grant in grants])},
        depends_on=list(grants),
    )
