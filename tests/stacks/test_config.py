"""Config errors name the file and the key, and a failed synth leaves the previous output untouched."""

import shutil
from pathlib import Path

import pytest

from stacks import main as entry
from stacks.config import ConfigError, load_environment
from tests.environments import write_environment

pytestmark = pytest.mark.xdist_group("stacks")


def _write_env(folder: Path, change) -> Path:
    return write_environment(folder, "public", change)


def test_unknown_key_names_the_file_and_the_key(tmp_path):
    path = _write_env(tmp_path, lambda d: d["aks"].update(system_node_cuont=3))
    with pytest.raises(ConfigError) as error:
        load_environment(path)
    assert str(path) in str(error.value)
    assert "key 'aks.system_node_cuont': unknown key" in str(error.value)


def test_wrong_type_names_the_key(tmp_path):
    path = _write_env(tmp_path, lambda d: d["budget"].update(amount="lots"))
    with pytest.raises(ConfigError, match=r"key 'budget.amount': .*number"):
        load_environment(path)


def test_missing_value_names_the_key(tmp_path):
    path = _write_env(tmp_path, lambda d: d.pop("log_retention_days"))
    with pytest.raises(ConfigError, match=r"key 'log_retention_days': required value is missing"):
        load_environment(path)


def test_region_outside_the_allowed_list_is_refused(tmp_path):
    path = _write_env(tmp_path, lambda d: d.update(app_regions=["westeurope", "eastus"]))
    with pytest.raises(ConfigError, match="'eastus' is not in allowed_regions"):
        load_environment(path)


def test_file_name_and_environment_name_must_agree(tmp_path):
    path = _write_env(tmp_path, lambda d: d.update(name="test"))
    with pytest.raises(ConfigError, match="must match the file name 'pub'"):
        load_environment(path)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def previous_output(synth, tmp_path) -> Path:
    outdir = tmp_path / "cdktf.out"
    shutil.copytree(synth.root, outdir)
    return outdir


def test_bad_config_fails_synth_with_exit_2_and_leaves_output_intact(previous_output, tmp_path, capsys):
    envs = tmp_path / "envs"
    envs.mkdir()
    _write_env(envs, lambda d: d.update(colour="blue"))
    before = _snapshot(previous_output)
    code = entry.main(["--outdir", str(previous_output), "--environments-dir", str(envs)])
    assert code == 2
    assert "key 'colour': unknown key" in capsys.readouterr().err
    assert _snapshot(previous_output) == before


def test_construct_error_during_synth_leaves_output_intact(previous_output, monkeypatch):
    before = _snapshot(previous_output)

    def broken(app, config):
        entry.FoundationStack(app, config=config)
        raise RuntimeError("construct failed half-way")

    monkeypatch.setattr(entry, "build_environment", broken)
    with pytest.raises(RuntimeError, match="half-way"):
        entry.synthesize(entry.load_environments(["dev"]), previous_output, progress=False)
    assert _snapshot(previous_output) == before
    assert [p.name for p in previous_output.parent.iterdir() if "staging" in p.name] == []


@pytest.mark.parametrize("address", ["10.20.32.1", "10.20.16.2", "10.20.31.255", "not-an-ip"])
def test_inference_router_ip_must_be_a_usable_address_of_the_aks_subnet(tmp_path, address):
    # Azure reserves the first four and the last address of every subnet; the router's load balancer takes
    # its frontend from the cluster's subnet.
    path = _write_env(tmp_path, lambda d: d["aks"].update(inference_router_ip=address))
    with pytest.raises(ConfigError, match=r"inference_router_ip"):
        load_environment(path)


def test_inference_router_ip_defaults_to_the_last_usable_address_and_can_be_set(tmp_path):
    assert load_environment(_write_env(tmp_path, lambda d: None)).inference_router_ip == "10.20.31.254"
    path = _write_env(tmp_path, lambda d: d["aks"].update(inference_router_ip="10.20.31.200"))
    assert load_environment(path).inference_router_ip == "10.20.31.200"
