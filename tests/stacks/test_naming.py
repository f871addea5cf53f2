import pytest

from stacks.naming import Namer, NamingError, stable_suffix, validate


def test_storage_names_are_lowercase_alphanumeric_within_24_characters():
    name = Namer("carprice", "prod", "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d").name("storage_account", "lake")
    assert name == f"stcarpriceprodlake{stable_suffix('9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d', 'prod')}"
    assert len(name) <= 24 and name.isalnum() and name.islower()


def test_an_over_long_name_is_rejected_with_the_limit_and_the_rule():
    with pytest.raises(NamingError, match=r"storage_account name 'stcarpriceproductionlake.*' is 29 characters; "
                                          r"Azure allows 3-24 \(3-24 lowercase letters and digits only\)"):
        Namer("carprice", "production", "sub").name("storage_account", "lake")


def test_invalid_characters_are_rejected():
    with pytest.raises(NamingError, match="characters Azure does not allow"):
        validate("key_vault", "kv_carprice_dev")
    with pytest.raises(NamingError, match="characters Azure does not allow"):
        validate("key_vault", "1kv-carprice")


def test_globally_unique_names_get_a_stable_suffix_from_subscription_and_environment():
    a = Namer("carprice", "dev", "6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f")
    b = Namer("carprice", "dev", "6F1C2D3E-4B5A-4C6D-8E7F-0A1B2C3D4E5F")
    other = Namer("carprice", "dev", "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d")
    assert a.name("key_vault") == b.name("key_vault")
    assert a.name("key_vault") != other.name("key_vault")
    assert a.name("resource_group") == other.name("resource_group") == "rg-carprice-dev"


def test_unknown_region_and_resource_type_fail_clearly():
    namer = Namer("carprice", "dev", "sub")
    with pytest.raises(NamingError, match="region 'moon' has no short code"):
        namer.name("web_app", region="moon")
    with pytest.raises(NamingError, match="no naming rule for resource type 'teapot'"):
        namer.name("teapot")
