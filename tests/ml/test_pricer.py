from __future__ import annotations

import math
from pathlib import Path

import pytest

from ml.carprice.pricer import Pricer
from ml.carprice.schema import CarFeatures

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ml-model")]


def test_prices_a_car_with_a_range_around_the_price(model_dir: Path, good_car: CarFeatures) -> None:
    pricer = Pricer.load(model_dir)
    (priced,) = pricer.predict([good_car])
    assert 5_000 < priced.price < 15_000  # a 1980s economy sedan
    assert priced.low <= priced.price <= priced.high
    assert pricer.model_version == pricer.card["model_version"]


def test_more_power_and_a_premium_make_cost_more(model_dir: Path, good_car: CarFeatures) -> None:
    premium = good_car.model_copy(update={"make": "bmw", "horsepower": 180.0, "engine_size": 200.0,
                                          "curb_weight": 3200.0, "drive_wheels": "rwd"})
    cheap, dear = Pricer.load(model_dir).predict([good_car, premium])
    assert dear.price > 1.5 * cheap.price


def test_optional_fields_all_set_or_all_missing_give_finite_prices(model_dir: Path, good_car: CarFeatures) -> None:
    full = good_car.model_copy(update={"symboling": 1, "normalized_losses": 100.0, "engine_location": "front",
                                       "wheel_base": 97.0, "length": 172.0, "width": 65.0, "height": 54.0,
                                       "engine_type": "ohc", "num_of_cylinders": "four", "fuel_system": "2bbl",
                                       "bore": 3.2, "stroke": 3.2, "compression_ratio": 9.0, "peak_rpm": 5000.0})
    prices = Pricer.load(model_dir).predict([good_car, full])
    assert all(math.isfinite(p.price) and p.price > 0 for p in prices)
    assert Pricer.load(model_dir).predict([]) == []
