"""The encoding training and serving share (ml/carprice/features.py, CarEncoder): no model needed."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ml.carprice import features
from ml.carprice.model import RowEncoder, features_frame
from ml.carprice.schema import DATASET, NUMERIC_FEATURES, CarFeatures
from tests.ml.conftest import GOOD_CAR

CARS = [
    {**GOOD_CAR, "length": 170.0, "num_of_cylinders": "four"},
    {**GOOD_CAR, "make": "bmw", "horsepower": 180, "engine_size": 200, "length": 190.0, "num_of_cylinders": "six"},
    {**GOOD_CAR, "make": "bmw", "horsepower": 160, "engine_size": 180, "length": 185.0, "num_of_cylinders": "six"},
    {**GOOD_CAR, "make": "honda", "length": 160.0, "num_of_cylinders": "four"},
]
LOG_PRICES = np.log([8_000.0, 30_000.0, 26_000.0, 7_000.0])


def _encoding() -> features.Encoding:
    return features.learn(DATASET, CARS, LOG_PRICES)


def test_a_validated_car_a_dict_and_a_training_frame_row_encode_to_the_same_floats() -> None:
    encoding = _encoding()
    from_dict = features.encode_row(CARS[1], encoding)
    from_model = features.encode_row(CarFeatures.model_validate(CARS[1]), encoding)
    from_frame = features.encode_row(features_frame(pd.DataFrame(CARS)).to_dict("records")[1], encoding)
    assert from_dict == from_model == from_frame
    assert len(from_dict) == encoding.width == len(encoding.feature_names())


def test_missing_numbers_take_the_training_median_and_unseen_categories_encode_as_all_zeros() -> None:
    encoding = _encoding()
    row = dict(zip(encoding.feature_names(), features.encode_row({**GOOD_CAR, "make": "volvo"}, encoding),
                   strict=True))
    assert row["length"] == encoding.medians["length"] == 177.5
    assert not any(v for k, v in row.items() if k.startswith("make="))  # volvo was not in training
    assert row[features.level_feature(DATASET)] == encoding.overall_level
    assert math.isclose(row["power_to_weight"], 70 / 2100 * 1000)


def test_make_levels_are_shrunk_towards_the_overall_mean() -> None:
    encoding = _encoding()
    bmw_mean = float(np.mean(LOG_PRICES[1:3]))
    assert encoding.overall_level < encoding.levels["bmw"] < bmw_mean


def test_training_rows_get_out_of_fold_make_levels_so_a_car_never_sees_its_own_price() -> None:
    frame = features_frame(pd.DataFrame(CARS * 5))
    y = np.tile(LOG_PRICES, 5)
    encoder = RowEncoder(DATASET.card())
    level = features.dense_width(DATASET) - 1
    training_levels = encoder.fit_transform(frame, y)[:, level]
    serving_levels = encoder.transform(frame)[:, level]
    assert not np.allclose(training_levels, serving_levels)
    assert set(encoder.transform(frame)[:, 0]) <= set(frame[NUMERIC_FEATURES[0]].astype(float))
