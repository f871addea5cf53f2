"""The assistant's golden set, generated from the data: questions a buyer asks about cars of the gold table, each
with what a right answer must hold (the car to price, the filters every cited listing must meet, and for
"comparable listing" questions the labelled relevant listings: same make and body style, year within 2).

Three kinds, in a fixed mix over the gold cars (deterministic: the same data give the same set):
- price_and_comparables: "Is $X a fair price for <car>? What else is on the market like it?" (labelled)
- price_only: "What is <car> worth?"
- listings_under_budget: "Show me <make> <body> listings from <year-2> to <year+2> under $B."
and one per make and body style with listings: "Find <make> <body> listings for sale over $B."
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from app.assistant.retrieval import ListingFilters
from functions.listing_index import listing_year
from ml.carprice.schema import DATASET

STATED = ("make", "body_style", "num_of_doors", "fuel_type", "aspiration", "drive_wheels", "engine_size",
          "curb_weight", "city_mpg", "highway_mpg", "horsepower")
YEAR_WINDOW = 2


@dataclass
class GoldenQuestion:
    qid: str
    kind: str
    question: str
    car: dict[str, Any] | None  # the car to price, as stated in the question (None: nothing to price)
    filters: ListingFilters  # what every cited listing must meet
    relevant: frozenset[str] = field(default_factory=frozenset)  # labelled comparables (empty: not labelled)

    @property
    def labelled(self) -> bool:
        return bool(self.relevant)


def _stated(row: dict[str, Any]) -> dict[str, Any]:
    car = {}
    for name in STATED:
        value = row.get(name)
        if name in DATASET.by_name and value is not None and value == value:
            car[name] = int(value) if isinstance(value, float) and value.is_integer() else value
    return car


def _words(car: dict[str, Any], year: int | None) -> tuple[str, str]:
    """(the car in a few words, its other details as 'name value' pairs)."""
    make = DATASET.by_name["make"].value_labels.get(car["make"], car["make"])
    head = f"a {year} {make} {car['body_style']}" if year else f"a {make} {car['body_style']}"
    if car.get("num_of_doors"):
        head += f" with {car['num_of_doors']} doors"
    details = ", ".join(f"{name.replace('_', ' ')} {car[name]}" for name in STATED[3:] if name in car)
    return head, details


def _money(value: float) -> str:
    return f"${value:,.0f}"


def golden_set(gold_rows: list[dict[str, Any]], index_docs: list[dict[str, Any]]) -> list[GoldenQuestion]:
    """The questions over these gold cars, labelled against the documents in the index."""
    by_group: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for doc in index_docs:
        by_group[(doc["make"], doc["body_style"])].append(doc)
    questions: list[GoldenQuestion] = []
    for number, row in enumerate(sorted(gold_rows, key=lambda r: str(r["car_id"]))):
        car = _stated(row)
        year = listing_year(car)
        group = by_group.get((car["make"], car["body_style"]), [])
        relevant = frozenset(d["id"] for d in group if year is not None and d.get("year") is not None
                             and abs(d["year"] - year) <= YEAR_WINDOW)
        low, high = (year - YEAR_WINDOW, year + YEAR_WINDOW) if year else (None, None)
        window = ListingFilters(make=car["make"], body_style=car["body_style"], year_min=low, year_max=high)
        slot = number % 5
        qid = f"q{number:03d}"
        if slot in (0, 1, 2) and len(relevant) >= 2:
            asking = round(float(row[DATASET.target.name]) * (0.85 + 0.05 * (number % 7)), -2)
            head, details = _words(car, year)
            text = (f"Is {_money(asking)} a fair price for {head}? Details: {details}. "
                    "What else is on the market like it?")
            questions.append(GoldenQuestion(qid, "price_and_comparables", text, car, window, relevant))
        elif slot == 3 or len(group) < 2:
            head, details = _words(car, year)
            questions.append(GoldenQuestion(qid, "price_only", f"What is {head} worth? Details: {details}.", car,
                                            window))
        else:
            prices = sorted(d["asking_price"] for d in group)
            budget = round(prices[len(prices) // 2] + 1, -2) + 100
            make = DATASET.by_name["make"].value_labels.get(car["make"], car["make"])
            years = f" from {year - YEAR_WINDOW} to {year + YEAR_WINDOW}" if year else ""
            text = f"Show me {make} {car['body_style']} listings{years} under {_money(budget)}."
            filters = ListingFilters(make=car["make"], body_style=car["body_style"], year_min=window.year_min,
                                     year_max=window.year_max, price_max=budget)
            questions.append(GoldenQuestion(qid, "listings_under_budget", text, None, filters))
    # One more per make and body style with listings: the pricier half ("over $B"), any year.
    for number, ((make, body), group) in enumerate(sorted(by_group.items())):
        if len(group) < 2:
            continue
        prices = sorted(d["asking_price"] for d in group)
        floor = round(prices[len(prices) // 2], -2)
        label = DATASET.by_name["make"].value_labels.get(make, make)
        questions.append(GoldenQuestion(f"g{number:03d}", "listings_over_price",
                                        f"Find {label} {body} listings for sale over {_money(floor)}.", None,
                                        ListingFilters(make=make, body_style=body, price_min=floor)))
    return questions
