"""The OpenAI stand-in's "model": deterministic rules, not a language model, that behave like a tool-calling chat
model on the questions this project asks. From the last user message it reads a car's details (by the tool
schema it is sent: property names, descriptions and enums), an asking price, filters (make, body style, years,
price bounds) and the intent (price it, find listings); it calls the tools; from their results it writes the
answer: the model's price and range quoted exactly, listings cited as [listing:<id>].

Its prompt "filter" refuses a fixed list of jailbreak phrasings, and tool results carrying them (an indirect
attack in seller text) end the answer with finish_reason content_filter, as Azure's filters do.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from typing import Any

JAILBREAK = re.compile(
    r"ignore (?:all |any |the )?(?:previous|prior|above|your|earlier) (?:instructions|rules|prompts?)"
    r"|\bjailbreak\b|developer mode|pretend (?:that )?you have no (?:rules|restrictions)"
    r"|reveal (?:your|the) system prompt",
    re.IGNORECASE,
)
PRICE_WORDS = ("fair", "worth", "price", "pay", "cost", "value", "estimate")
LISTING_WORDS = ("listing", "on the market", "what else", "similar", "comparable", "like it", "alternative",
                 "show me", "find", "for sale")
WORD_NUMBERS = {"2": "two", "3": "three", "4": "four", "5": "five", "6": "six", "8": "eight", "12": "twelve"}
_MONEY = r"\$\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"


class PromptFiltered(Exception):
    """The stand-in's prompt filter refused the request (Azure: 400, code content_filter)."""


@dataclass
class Reply:
    text: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    filtered: bool = False  # the completion was cut by the content filter


def _money(text: str) -> float:
    return float(text.replace(",", ""))


def _variants(name: str, schema: dict[str, Any]) -> list[str]:
    label = str(schema.get("description", "")).split(" (")[0].lower()
    return [v for v in dict.fromkeys([name.replace("_", " "), label]) if v]


def _enum_value(word: str, values: list[str]) -> str | None:
    """The enum value a word names: exactly, or for longer names a near spelling ("Alfa Romeo" for
    alfa-romero, "Peugeot" for peugot); short words must match exactly ("weight" is not "eight")."""
    if word in values:
        return word
    squashed = {re.sub(r"[^a-z0-9]", "", v): v for v in values}
    key = re.sub(r"[^a-z0-9]", "", word)
    if len(key) < 6:
        return None
    close = difflib.get_close_matches(key, [v for v in squashed if len(v) >= 6], n=1, cutoff=0.86)
    return squashed[close[0]] if close else None


def read_car(question: str, properties: dict[str, Any]) -> dict[str, Any]:
    """The car's details the question states, as the price tool's arguments."""
    text = question.lower()
    found: dict[str, Any] = {}
    for name, schema in properties.items():
        for variant in _variants(name, schema):
            value = _stated_value(text, variant, schema)
            if value is not None:
                found[name] = value
                break
    doors = re.search(r"\b(two|four|2|4)[- ]doors?\b", text)
    if doors and "num_of_doors" in properties:
        found.setdefault("num_of_doors", WORD_NUMBERS.get(doors.group(1), doors.group(1)))
    return found | _bare_values(text, properties, found)


def _stated_value(text: str, variant: str, schema: dict[str, Any]) -> str | int | float | None:
    """The value the text gives a property named `variant` ("body style: sedan", "horsepower of 102")."""
    if schema.get("enum"):
        match = re.search(rf"\b{re.escape(variant)}\s*(?::|=|is)?\s*([a-z0-9-]+)", text)
        return _enum_value(match.group(1), schema["enum"]) if match else None
    match = re.search(rf"\b{re.escape(variant)}\s*(?:of|:|=|is)?\s*(-?\d+(?:\.\d+)?)", text)
    if not match:
        return None
    number = float(match.group(1))
    return int(number) if schema.get("type") == "integer" or number.is_integer() else number


def _bare_values(text: str, properties: dict[str, Any], found: dict[str, Any]) -> dict[str, Any]:
    """A bare value that belongs to one property only ("sedan", "diesel", "BMW") names it (unless already found)."""
    words = re.findall(r"[a-z0-9][a-z0-9-]*", text)
    phrases = words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
    owners: dict[str, list[str]] = {}
    for name, schema in properties.items():
        for value in schema.get("enum", []):
            owners.setdefault(value, []).append(name)
    named: dict[str, Any] = {}
    for phrase in phrases:
        for value, names in owners.items():
            owner = names[0]
            if (len(names) == 1 and owner not in found and owner not in named and _enum_value(phrase, [value])
                    and len(phrase) > 2):
                named[owner] = value  # the first phrase that names it
    return named


def read_filters(question: str, car: dict[str, Any]) -> dict[str, Any]:
    text = question.lower()
    filters: dict[str, Any] = {k: car[k] for k in ("make", "body_style") if k in car}
    years = re.search(r"(?:from|between) (\d{4}) (?:to|and) (\d{4})", text)
    single = re.search(r"\b(19[5-9]\d|20[0-4]\d)\b", text)
    if years:
        filters["year_min"], filters["year_max"] = int(years.group(1)), int(years.group(2))
    elif single:
        filters["year_min"], filters["year_max"] = int(single.group(1)) - 2, int(single.group(1)) + 2
    below = re.search(r"(?:under|below|at most|less than|no more than|up to)\s*" + _MONEY, text)
    above = re.search(r"(?:over|above|at least|more than)\s*" + _MONEY, text)
    if below:
        filters["price_max"] = _money(below.group(1))
    if above:
        filters["price_min"] = _money(above.group(1))
    return filters


def asking_price(question: str) -> float | None:
    for match in re.finditer(_MONEY, question):
        before = question[max(0, match.start() - 14):match.start()].lower()
        if not re.search(r"(under|below|most|less than|more than|up to|over|above|least)\s*$", before):
            return _money(match.group(1))
    return None


def _tool_call(name: str, arguments: dict[str, Any], number: int) -> dict[str, Any]:
    return {"id": f"call_{number}_{name}", "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments, sort_keys=True)}}


def first_round(question: str, tools: dict[str, dict[str, Any]]) -> Reply:
    text = question.lower()
    car = read_car(question, tools.get("price_car", {}).get("properties", {}))
    wants_price = any(w in text for w in PRICE_WORDS) and "price_car" in tools and bool(car)
    wants_listings = any(w in text for w in LISTING_WORDS) and "search_listings" in tools
    calls: list[dict[str, Any]] = []
    if wants_price:
        calls.append(_tool_call("price_car", car, len(calls)))
    if wants_listings:
        search = {"query": question, **read_filters(question, car)}
        calls.append(_tool_call("search_listings", search, len(calls)))
    if calls:
        return Reply(tool_calls=calls)
    return Reply(text="I can price a car with our model (tell me its make, body style and details) or find "
                      "comparable listings on the market (tell me the make, body style, years or budget).")


def _verdict(asking: float, price: float, low: float, high: float) -> str:
    if asking < low:
        return "below the plausible range: a great deal if the car is as described"
    if asking < price:
        return "under our estimate and within the range: a good price"
    if asking <= high:
        return "above our estimate but within the range: a fair price"
    return "above the plausible range: high for this car"


def final_answer(question: str, results: list[tuple[str, dict[str, Any]]]) -> Reply:
    parts: list[str] = []
    asking = asking_price(question)
    for name, result in results:
        if name == "price_car" and "price" in result:
            price, low, high = result["price"], result["price_low"], result["price_high"]
            parts.append(f"Our model prices this car at ${price:,.0f} (plausible range ${low:,.0f} to "
                         f"${high:,.0f}, model {result['model_version']}).")
            if asking is not None:
                parts.append(f"At ${asking:,.0f} the asking price is {_verdict(asking, price, low, high)}.")
        elif name == "price_car":
            reasons = "; ".join(f"{e['field']}: {e['reason']}" for e in result.get("errors", [])) or result.get("error")
            parts.append(f"I could not price this car ({reasons}). Please tell me those details.")
        elif name == "search_listings" and "listings" in result:
            listings = result["listings"]
            if not listings:
                parts.append("No listings match those filters right now.")
                continue
            lines = ["Comparable listings:"]
            for doc in listings:
                year = f"{doc['year']} " if doc.get("year") else ""
                estimate = (f", our estimate ${doc['estimated_price']:,.0f}"
                            if doc.get("estimated_price") is not None else "")
                lines.append(f"- {year}{doc.get('make')} {doc.get('body_style')}, asking "
                             f"${doc['asking_price']:,.0f}{estimate} [listing:{doc['id']}]")
            parts.append("\n".join(lines))
        else:
            parts.append(f"The listing search did not work ({result.get('error')}).")
    return Reply(text="\n\n".join(parts))


def respond(messages: list[dict[str, Any]], tools: list[dict[str, Any]], tool_choice: Any) -> Reply:
    """The next assistant message for this conversation."""
    last_user = max(i for i, m in enumerate(messages) if m.get("role") == "user")
    question = str(messages[last_user].get("content") or "")
    if JAILBREAK.search(question):
        raise PromptFiltered(question)
    results: list[tuple[str, dict[str, Any]]] = []
    names = {}
    for message in messages[last_user + 1:]:
        for call in message.get("tool_calls") or []:
            names[call["id"]] = call["function"]["name"]
        if message.get("role") == "tool":
            if JAILBREAK.search(str(message.get("content"))):
                return Reply(filtered=True)
            results.append((names.get(message.get("tool_call_id"), ""), json.loads(message.get("content") or "{}")))
    if results or tool_choice == "none":
        return final_answer(question, results)
    schemas = {t["function"]["name"]: t["function"].get("parameters", {}) for t in tools or []}
    return first_round(question, schemas)
