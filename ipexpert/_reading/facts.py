"""A checked profile becomes facts: one per firm, market, product sale, asset, registration, section.

A fact is a plain (kind, fields) pair here; the engine turns it into an experta Fact.
Every field the schema knows is present (None when the profile leaves it out), so a
condition on a missing value simply does not match and `exists: false` can test absence.
Every fact carries `path`, its place in the profile, so identical entries stay distinct
and each conclusion can point back at the profile's lines.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from ipexpert._common import values as _values
from ipexpert._reading import schemas as _schemas
from ipexpert._reading.document import json_path

# Fields of each profile fact kind, for rules and for `rules check`.
KINDS: dict[str, tuple[str, ...]] = {
    "firm": (
        "name",
        "home_country",
        "stage",
        "founded",
        "employees",
        "annual_revenue_usd",
        "business_model",
        "channels",
        "payment_providers",
        "age_years",
        "market_count",
        "active_market_count",
        "planned_market_count",
        "registered_right_count",
        "product_count",
        "trademark_count",
    ),
    "market": ("code", "status", "launch_date"),
    "product": ("name", "origin", "markets", "clearance_search", "first_disclosed", "listing_photos"),
    "sale": ("product", "market", "origin", "clearance_search", "market_status", "first_disclosed"),
    "asset": (
        "type",
        "name",
        "value",
        "registration_count",
        "products",
        "taken_in",
        "taken_count",
        "invented_in",
        "security_examination",
        "name_script",
    ),
    "registration": (
        "asset",
        "asset_type",
        "jurisdiction",
        "status",
        "filed",
        "registered",
        "expires",
        "designations",
        "products",
    ),
    "conflict": ("asset", "asset_type", "market"),
    "confidentiality": (
        "employee_nda",
        "supplier_nda",
        "access_control",
        "secret_register",
        "staff_training",
        "exit_procedure",
        "measures_in_place",
    ),
    "management": (
        "ip_records",
        "contract_management",
        "incentive_system",
        "confidentiality_policy",
        "written_strategy",
        "periodic_review",
        "ip_function",
        "infringement_monitoring",
        "brand_protection",
        "systems_in_place",
        "customs_recordations",
    ),
    "history": (
        "infringement_complaints",
        "listings_removed",
        "accounts_frozen",
        "copycats_seen",
        "squatting_seen",
        "lawsuits",
        "tro_served",
    ),
    "evaluation": ("as_of",),
}

# Where each kind's fields come from in the profile ("[]" is any list item): the kind's
# place, and the fields read from elsewhere. A field found in neither is computed here
# (counts, age, status totals). `rules check` and `explain` read the profile schema through it.
SOURCES: dict[str, tuple[tuple | None, dict]] = {
    "firm": (("firm",), {"channels": ("channels",), "payment_providers": ("payment_providers",)}),
    "market": (("markets", "[]"), {}),
    "product": (("products", "[]"), {}),
    "sale": (
        None,
        {
            "product": ("products", "[]", "name"),
            "market": ("products", "[]", "markets", "[]"),
            "origin": ("products", "[]", "origin"),
            "clearance_search": ("products", "[]", "clearance_search"),
            "market_status": ("markets", "[]", "status"),
        },
    ),
    "asset": (("ip_assets", "[]"), {}),
    "registration": (
        ("ip_assets", "[]", "registrations", "[]"),
        {
            "asset": ("ip_assets", "[]", "name"),
            "asset_type": ("ip_assets", "[]", "type"),
            "products": ("ip_assets", "[]", "products"),
        },
    ),
    "conflict": (None, {}),
    "confidentiality": (("confidentiality",), {}),
    "management": (("management",), {}),
    "history": (("history",), {}),
    "stage": (None, {"value": ("firm", "stage")}),
    "evaluation": (None, {}),
}


def profile_path(kind: str, name: str) -> tuple | None:
    """Where field *name* of a *kind* fact comes from in the profile (with "[]" for list items), or None."""
    base, elsewhere = SOURCES.get(kind, (None, {}))
    if name in elsewhere:
        return elsewhere[name]
    return base + (name,) if base is not None else None


# Fields computed from the profile rather than read from one place, with the places they are
# computed from; with SOURCES this says, once, which profile places feed which fact fields.
COMPUTED_FROM: dict[tuple[str, str], tuple[tuple, ...]] = {
    ("firm", "age_years"): (("firm", "founded"),),
    ("firm", "market_count"): (("markets", "[]"),),
    ("firm", "active_market_count"): (("markets", "[]", "status"),),
    ("firm", "planned_market_count"): (("markets", "[]", "status"),),
    ("firm", "registered_right_count"): (
        ("ip_assets", "[]", "registrations", "[]"),
        ("ip_assets", "[]", "registrations", "[]", "status"),
    ),
    ("firm", "product_count"): (("products", "[]"),),
    ("firm", "trademark_count"): (("ip_assets", "[]"),),
    ("asset", "registration_count"): (("ip_assets", "[]", "registrations", "[]"),),
    ("asset", "taken_count"): (("ip_assets", "[]", "taken_in"),),
    ("asset", "name_script"): (("ip_assets", "[]", "name"),),
    ("sale", "market"): (("products", "[]", "markets"), ("markets", "[]", "code")),  # a product sold in every market by default
    ("conflict", "asset"): (("ip_assets", "[]", "name"),),
    ("conflict", "asset_type"): (("ip_assets", "[]", "type"),),
    ("conflict", "market"): (("ip_assets", "[]", "taken_in"),),
    ("confidentiality", "measures_in_place"): tuple(("confidentiality", n) for n in KINDS["confidentiality"][:-1]),
    ("management", "systems_in_place"): tuple(
        ("management", n)
        for n in ("ip_records", "contract_management", "incentive_system", "confidentiality_policy", "written_strategy")
    ),
}
# A list item's place feeds the facts its existence makes: a market item makes a market fact, and so on.
ITEM_FEEDS: dict[tuple, tuple[tuple[str, str], ...]] = {
    ("markets", "[]"): (("market", "code"),),
    ("products", "[]"): (("product", "name"), ("sale", "product")),
    ("ip_assets", "[]"): (("asset", "type"),),
    ("ip_assets", "[]", "registrations", "[]"): (("registration", "jurisdiction"),),
}


def fed_by(place: tuple) -> list[tuple[str, str]]:
    """The (fact kind, field) pairs that profile *place* (with "[]" for list items) feeds, read or computed."""
    out = list(ITEM_FEEDS.get(place, ()))
    kinds = dict(KINDS, stage=("value",))
    for kind, names in kinds.items():
        for name in names:
            sources = COMPUTED_FROM.get((kind, name)) or (profile_path(kind, name),)
            if place in sources and (kind, name) not in out:
                out.append((kind, name))
    return out


DATE_FIELDS = {"launch_date", "filed", "registered", "expires", "as_of", "first_disclosed", "tro_served"}

_CONFIDENTIALITY = KINDS["confidentiality"][:-1]
_SYSTEMS = ("ip_records", "contract_management", "incentive_system", "confidentiality_policy", "written_strategy")


def name_script(name: str) -> str:
    """The script a name is written in, as marketplaces and registers read it: latin (any Latin
    letter), han (Chinese characters and no Latin letter), arabic, or other."""
    if any(char.isascii() and char.isalpha() for char in name):
        return "latin"
    if any("\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf" for char in name):
        return "han"
    if any("\u0600" <= char <= "\u06ff" for char in name):
        return "arabic"
    return "other"


@dataclass(frozen=True)
class FactSpec:
    """One fact before it enters the engine: its kind, its fields and its path in the profile."""

    kind: str
    fields: dict
    path: tuple

    @property
    def json_path(self) -> str:
        return json_path(self.path) if self.kind != "evaluation" else "--as-of"


def _date(text):
    return _values.parse_date(text) if isinstance(text, str) else text


def build(data: dict, as_of: datetime.date) -> list[FactSpec]:
    """The facts of one valid profile, in profile order."""
    facts = [FactSpec("evaluation", {"as_of": as_of}, ("as_of",))]
    firm = data["firm"]
    markets = data["markets"]
    assets = data.get("ip_assets", [])
    products = data.get("products", [])
    all_codes = tuple(m["code"] for m in markets)
    registered = sum(1 for a in assets for r in a.get("registrations", []) if r["status"] == "registered")
    firm_fields = {name: firm.get(name) for name in KINDS["firm"]}
    firm_fields.update(
        channels=tuple(data.get("channels", ())),
        payment_providers=tuple(data.get("payment_providers", ())),
        age_years=(as_of.year - firm["founded"]) if "founded" in firm else None,
        market_count=len(markets),
        active_market_count=sum(1 for m in markets if m["status"] == "active"),
        planned_market_count=sum(1 for m in markets if m["status"] == "planned"),
        registered_right_count=registered,
        product_count=len(products),
        trademark_count=sum(1 for a in assets if a["type"] == "trademark"),
    )
    facts.append(FactSpec("firm", firm_fields, ("firm",)))
    status = {}
    for i, market in enumerate(markets):
        status[market["code"]] = market["status"]
        facts.append(
            FactSpec(
                "market",
                {"code": market["code"], "status": market["status"], "launch_date": _date(market.get("launch_date"))},
                ("markets", i),
            )
        )
    for i, product in enumerate(products):
        codes = tuple(product.get("markets") or all_codes)
        fields = {
            "name": product["name"],
            "origin": product["origin"],
            "markets": codes,
            "clearance_search": product.get("clearance_search", False),
            "first_disclosed": _date(product.get("first_disclosed")),
            "listing_photos": product.get("listing_photos"),
        }
        facts.append(FactSpec("product", fields, ("products", i)))
        for j, code in enumerate(codes):
            path = ("products", i, "markets", j) if product.get("markets") else ("products", i)
            facts.append(
                FactSpec(
                    "sale",
                    {
                        "product": product["name"],
                        "market": code,
                        "origin": product["origin"],
                        "clearance_search": fields["clearance_search"],
                        "market_status": status.get(code),
                        "first_disclosed": fields["first_disclosed"],
                    },
                    path,
                )
            )
    for i, asset in enumerate(assets):
        regs = asset.get("registrations", [])
        covers = tuple(asset.get("products", ()))
        taken = tuple(asset.get("taken_in", ()))
        facts.append(
            FactSpec(
                "asset",
                {
                    "type": asset["type"],
                    "name": asset["name"],
                    "value": asset.get("value"),
                    "registration_count": len(regs),
                    "products": covers,
                    "taken_in": taken,
                    "taken_count": len(taken),
                    "invented_in": asset.get("invented_in"),
                    "security_examination": asset.get("security_examination"),
                    "name_script": name_script(asset["name"]),
                },
                ("ip_assets", i),
            )
        )
        for j, code in enumerate(taken):
            facts.append(
                FactSpec(
                    "conflict",
                    {"asset": asset["name"], "asset_type": asset["type"], "market": code},
                    ("ip_assets", i, "taken_in", j),
                )
            )
        for j, reg in enumerate(regs):
            facts.append(
                FactSpec(
                    "registration",
                    {
                        "asset": asset["name"],
                        "asset_type": asset["type"],
                        "jurisdiction": reg["jurisdiction"],
                        "status": reg["status"],
                        "filed": _date(reg.get("filed")),
                        "registered": _date(reg.get("registered")),
                        "expires": _date(reg.get("expires")),
                        "designations": tuple(reg.get("designations", ())),
                        "products": covers,
                    },
                    ("ip_assets", i, "registrations", j),
                )
            )
    conf = data.get("confidentiality", {})
    conf_fields: dict = {name: bool(conf.get(name, False)) for name in _CONFIDENTIALITY}
    conf_fields["measures_in_place"] = sum(conf_fields.values())
    facts.append(FactSpec("confidentiality", conf_fields, ("confidentiality",)))
    mgmt = data.get("management", {})
    mgmt_fields: dict = {
        name: bool(mgmt.get(name, False))
        for name in KINDS["management"]
        if name in _SYSTEMS or name in ("infringement_monitoring", "brand_protection")
    }
    mgmt_fields["periodic_review"] = mgmt.get("periodic_review", "none")
    mgmt_fields["ip_function"] = mgmt.get("ip_function", "none")
    mgmt_fields["systems_in_place"] = sum(mgmt_fields[name] for name in _SYSTEMS)
    mgmt_fields["customs_recordations"] = tuple(mgmt.get("customs_recordations", ()))
    facts.append(FactSpec("management", mgmt_fields, ("management",)))
    hist = data.get("history", {})
    facts.append(
        FactSpec(
            "history",
            {
                "infringement_complaints": hist.get("infringement_complaints", 0),
                "listings_removed": hist.get("listings_removed", 0),
                "accounts_frozen": hist.get("accounts_frozen", 0),
                "copycats_seen": hist.get("copycats_seen", False),
                "squatting_seen": hist.get("squatting_seen", False),
                "lawsuits": hist.get("lawsuits", 0),
                "tro_served": _date(hist.get("tro_served")),
            },
            ("history",),
        )
    )
    if firm.get("stage"):
        facts.append(FactSpec("stage", {"value": firm["stage"], "declared": True}, ("firm", "stage")))
    return facts


def schema_path(kind: str, name: str) -> tuple | None:
    """The place of fact field *kind.name* in the profile schema, or None if it is computed (see `SOURCES`)."""
    path = profile_path(kind, name)
    return path if path is not None and _schemas.field_schema(path) is not None else None
