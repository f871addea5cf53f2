"""Hand translations of the azurerm custom validators that guard arguments the stacks set to literals.

The rules table records a validator it cannot read statically as `not_checked` (its detail names the Go
function). Of those, the ones that guard an argument our synthesized stacks set to a literal matter; each
is translated here from the provider's source at v4.81.0 (file:line beside it) and run by `make validate`.
The rest are listed in `NOT_TRANSLATED` with the reason they cannot fail for our values; a test fails when the
synth sets a literal under a validator that is in neither, so a new one is translated or explained.
"""

from __future__ import annotations

import ipaddress
import json
import re
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

Validator = Callable[[Any], "str | None"]
_HELPERS = "vendor/github.com/hashicorp/go-azure-helpers/resourcemanager"

_CIDR_V4 = re.compile(r"^([0-9]{1,3}\.){3}[0-9]{1,3}(/([0-9]|[1-2][0-9]|3[0-2]))?$")
_STORAGE_IP_RULE = re.compile(r"^([0-9]{1,3}\.){3}[0-9]{1,3}(/([0-9]|[1-2][0-9]|30))?$")
_DURATION = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
# The `period` package's approximations (DurationApprox): a year of 365.2425 days, a month of a twelfth of it.
_DAYS = {"years": 365.2425, "months": 365.2425 / 12, "weeks": 7.0, "days": 1.0,
         "hours": 1 / 24, "minutes": 1 / 1440, "seconds": 1 / 86400}


def _between(low: int, high: int, noun: str) -> Validator:
    def check(value: Any) -> str | None:
        if not isinstance(value, int) or isinstance(value, bool):
            return f"expected an integer {noun}"
        return None if low <= value <= high else f"{noun} must be between {low} and {high}, got {value}"
    return check


def _port(value: Any) -> str | None:
    return _between(1, 65535, "port number")(value)


def _cosmos_max_throughput(value: Any) -> str | None:
    if not isinstance(value, int) or value < 1000 or value % 1000:
        return f"must be at least 1000 and a multiple of 1000, got {value}"
    return None


def _archive_name_format(value: Any) -> str | None:
    parts = ("{Namespace}", "{EventHub}", "{PartitionId}", "{Year}", "{Month}", "{Day}", "{Hour}", "{Minute}",
             "{Second}")
    missing = [part for part in parts if part not in str(value)]
    return f"must contain {missing}" if missing else None


def _status_code_range(value: Any) -> str | None:
    parts = str(value).split("-")
    return None if len(parts) == 2 and all(p.lstrip("-").isdigit() for p in parts) else "expected <int>-<int>"


def _cidr(value: Any) -> str | None:
    return None if _CIDR_V4.match(str(value)) else "must be an IPv4 address with an optional /0-32 prefix"


def _ipv4_or_cidr(value: Any) -> str | None:
    try:
        ipaddress.IPv4Network(str(value), strict=False)
    except ValueError:
        return "must be an IPv4 address or CIDR range"
    return None


def _storage_ip_rule(value: Any) -> str | None:
    text = str(value)
    if not _STORAGE_IP_RULE.match(text):
        return "must be an IPv4 address with an optional /0-30 prefix (storage refuses /31 and /32)"
    first, second = text.split(".")[:2]
    if first == "10" or (first == "172" and 16 <= int(second) <= 31) or (first == "192" and second == "168"):
        return "must be a public address (storage IP rules refuse private ranges)"
    return None


def duration_days(value: str) -> float | None:
    match = _DURATION.match(value)
    if not match or value in ("P", "PT"):
        return None
    return sum(float(amount) * _DAYS[unit] for unit, amount in match.groupdict().items() if amount)


def _iso8601_duration(value: Any) -> str | None:
    return None if duration_days(str(value)) is not None else "must be an ISO 8601 duration such as P30D"


def _duration_between(low: str, high: str) -> Validator:
    def check(value: Any) -> str | None:
        days = duration_days(str(value))
        if days is None:
            return "must be an ISO 8601 duration such as P30D"
        low_days, high_days = duration_days(low), duration_days(high)
        assert low_days is not None and high_days is not None
        return None if low_days <= days <= high_days else f"must be between {low} and {high}"
    return check


def _resource_group_name(value: Any) -> str | None:
    text = str(value)
    if not text or len(text) > 90 or text.endswith(".") or not re.match(r"^[-\w._()]+$", text):
        return "1-90 letters, digits, '-', '_', '.', '(' or ')', not ending with '.'"
    return None


def _tags_limited(key_length: int) -> Validator:
    def check(value: Any) -> str | None:
        if not isinstance(value, dict):
            return None
        if len(value) > 50:
            return "at most 50 tags"
        long = [k for k, v in value.items() if len(k) > key_length or len(str(v)) > 256]
        return f"tag keys are at most {key_length} characters and values at most 256: {long}" if long else None
    return check


def _not_empty(value: Any) -> str | None:
    return None if str(value).strip() else "must not be empty"


def _rfc3339(value: Any) -> str | None:
    try:
        datetime.fromisoformat(str(value))
    except ValueError:
        return "must be an RFC 3339 time such as 2026-12-01T00:00:00Z"
    return None if "T" in str(value) else "must be an RFC 3339 time such as 2026-12-01T00:00:00Z"


def _uuid(value: Any) -> str | None:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return "must be a UUID"
    return None


def _json(value: Any) -> str | None:
    try:
        json.loads(str(value))
    except ValueError:
        return "must be a JSON document"
    return None


def _https_url(value: Any) -> str | None:
    parsed = urlparse(str(value))
    return None if parsed.scheme == "https" and parsed.netloc else "must be an https:// URL with a host"


def _starts_with_slash(value: Any) -> str | None:
    return None if str(value).startswith("/") else "must start with '/'"


def _lower_cased(value: Any) -> str | None:
    text = str(value)
    if not text.strip():
        return "must not be empty"
    if text.lower() != text:
        return "must be a lower-cased string"
    return "cannot contain whitespace" if " " in text else None


def _factory_id(value: Any) -> str | None:
    pattern = r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.DataFactory/factories/[^/]+$"
    return None if re.match(pattern, str(value), re.IGNORECASE) else "must be a Data Factory resource id"


def _nested_item_name(value: Any) -> str | None:
    return None if re.match(r"^[0-9a-zA-Z-]+$", str(value)) else "letters, digits and '-' only"


# detail of the table's `not_checked` rule -> (validator, provider source of the translation)
VALIDATORS: dict[str, tuple[Validator, str]] = {
    "validate.ValidateEventHubPartitionCount": (
        _between(1, 1024, "partition count"), "internal/services/eventhub/validate/eventhub_partition.go:8"),
    "validate.ValidateEventHubMessageRetentionCount": (
        _between(1, 90, "message retention (days)"),
        "internal/services/eventhub/validate/eventhub_message_retention.go:8"),
    "validate.ValidateEventHubArchiveNameFormat": (
        _archive_name_format, "internal/services/eventhub/validate/eventhub_archive.go:11"),
    "validate.CosmosMaxThroughput": (_cosmos_max_throughput, "internal/services/cosmos/validate/cosmos.go:52"),
    "validate.PortNumber": (_port, "helpers/validate/network.go:39"),
    "validate.StatusCodeRange": (
        _status_code_range, "internal/services/trafficmanager/validate/status_code_range.go:12"),
    "validate.CIDR": (_cidr, "helpers/validate/network.go:13"),
    "validation.Any with an alternative that is not checked": (
        _ipv4_or_cidr, "cosmosdb_account_resource.go:313 (IsCIDR|IsIPv4Address), key_vault_resource.go:175"),
    "validate.StorageAccountIpRule": (
        _storage_ip_rule, "internal/services/storage/validate/storage_account_ip_rule.go:13"),
    "validate.ISO8601Duration": (_iso8601_duration, "helpers/validate/time.go:16"),
    "resourcegroups.ValidateName": (
        _resource_group_name, f"{_HELPERS}/resourcegroups/validate.go:12"),
    "tags.Validate": (_tags_limited(512), f"{_HELPERS}/tags/validate.go"),
    "validate.StorageAccountTags": (
        _tags_limited(128), "internal/services/storage/validate/storage_account_tags.go:12"),
    "location.EnhancedValidate": (
        _not_empty, "vendor/github.com/hashicorp/go-azure-helpers/resourcemanager/location/validation.go:18 "
                    "(offline: StringIsNotEmpty)"),
    "validation.IsRFC3339Time": (_rfc3339, "terraform-plugin-sdk helper/validation/time.go"),
    "validation.IsUUID": (_uuid, "terraform-plugin-sdk helper/validation/uuid.go"),
    "validation.StringIsJSON": (_json, "terraform-plugin-sdk helper/validation/json.go"),
    "validation.IsURLWithHTTPS": (_https_url, "terraform-plugin-sdk helper/validation/web.go"),
    "validation.StringStartsWithOneOf": (
        _starts_with_slash, "internal/services/network/application_gateway_resource.go:1244 (\"/\")"),
    "validate.LowerCasedString": (
        _lower_cased, "internal/services/privatedns/validate/lower_cased_string.go:12"),
    "factories.ValidateFactoryID": (
        _factory_id, "go-azure-sdk resource-manager/datafactory/2018-06-01/factories/id_factory.go:88"),
    "keyvault.ValidateNestedItemName": (
        _nested_item_name, "vendor/github.com/hashicorp/go-azure-helpers/resourcemanager/keyvault/nested_item.go:152"),
}
# Inline validators are keyed by their call site: the bounds are arguments there.
INLINE_BY_SOURCE: dict[str, tuple[Validator, str]] = {
    "internal/services/keyvault/key_vault_key_resource.go:176": (
        _duration_between("P28D", "P100Y"), "key_vault_key_resource.go:179 ISO8601DurationBetween(P28D, P100Y)"),
    "internal/services/keyvault/key_vault_key_resource.go:191": (
        _duration_between("P7D", "P36493D"), "key_vault_key_resource.go:194 ISO8601DurationBetween(P7D, P36493D)"),
}
_NAMES = ("every name comes from stacks/naming.py, which applies Azure's length and character rules per resource "
          "type at synth, or is a fixed literal in the code that the test of its module pins")
_IDS = "resource ids and references built by Terraform from resources it created: unknown at plan time or well formed"
# Validators guarding literals in the synth that are not translated, and why they cannot fail for our values.
NOT_TRANSLATED: dict[str, str] = {
    **{name: _NAMES for name in (
        "validate.PrivateLinkName", "validate.KubernetesAgentPoolName", "validate.WebAppName",
        "validate.CosmosEntityName", "validate.LinkedServiceDatasetName", "validate.MonitorDiagnosticSettingName",
        "validate.ServicePlanName", "validate.ApplicationGatewayName", "validate.PublicIpDomainNameLabel",
        "validate.StorageAccountName", "validate.StorageContainerName", "validate.ManagementLockName",
        "validate.ContainerRegistryName", "validate.DiskEncryptionSetName", "validate.VaultName",
        "validate.KubernetesDNSPrefix", "validate.ComputeClusterName", "validate.DataStoreName",
        "validate.WorkspaceName", "validate.NatGatewayName", "validate.LogAnalyticsWorkspaceName",
        "validate.ProjectName", "validate.AccessConnectorName",
        "inline function at internal/services/datafactory/validate/datafactory.go:15",
        "inline function at internal/services/datafactory/validate/datafactory.go:26",
        "inline function at internal/services/datafactory/validate/datafactory.go:37",
    )},
    **{ids: _IDS for ids in (
        "commonids.ValidateVirtualNetworkID", "azure.ValidateResourceID",
    )},
    "validate.PrivateLinkSubResourceName": "the group ids come from interfaces.PRIVATE_DNS_ZONES, the documented "
                                           "private-link sub-resources (Learn: private endpoint DNS zone values)",
    "validate.IsIpOrCIDRRangeList": "App Service IP restrictions take the environment's allowed_ip_ranges, which "
                                    "config validates as CIDR ranges",
    "inline function at vendor/github.com/hashicorp/go-azure-helpers/resourcemanager/tags/validate.go:74":
        "TagsWithMaximumElements(m): the maximum is an argument at each call site (15 on "
        "key_vault_secret_resource.go:119); stacks/config.py refuses more than 15 tags with the required ones "
        "(MAX_TAGS)",
    "inline function at helpers/validate/time.go:35": "translated per call site in INLINE_BY_SOURCE",
    "commonids.ValidateScopeID": "a custom role's assignable scope (commonids/scope.go:60, any Resource Manager "
                                 "scope): the stacks build it as /subscriptions/<subscription_id, validated by config>"
                                 "/resourceGroups/<name from stacks/naming.py>",
}


def validator_for(rule: dict[str, Any]) -> tuple[Validator, str] | None:
    """The translation that applies to a `not_checked` rule, if there is one."""
    return INLINE_BY_SOURCE.get(rule.get("source", "")) or VALIDATORS.get(rule.get("detail", ""))
