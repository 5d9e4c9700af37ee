"""Many different firm profiles, some invalid on purpose, made from a seed (for batch and thread tests)."""

from __future__ import annotations

import json
import random

MARKETS = ["US", "DE", "FR", "GB", "JP", "CN", "EU", "IT", "ES", "CA", "AU", "KR"]
CHANNELS = ["amazon", "ebay", "aliexpress", "shopify", "own_site", "etsy"]
ORIGINS = ["own_design", "trending", "licensed", "generic"]
ASSET_TYPES = ["trademark", "patent", "design", "copyright", "trade_secret", "domain"]
STAGES = ["startup", "development", "growth", "stable"]
MODELS = ["own_brand", "reseller", "private_label", "oem"]

# Each breaks the profile in one way a user would: schema, consistency, or plain syntax.
BREAKAGES = ("unknown_key", "bad_market_code", "missing_markets", "duplicate_market", "unlisted_product_market")


def profile(rng: random.Random, index: int) -> dict:
    """One valid profile; the index makes every firm name different."""
    codes = rng.sample(MARKETS, rng.randint(1, 5))
    markets = []
    for code in codes:
        if rng.random() < 0.3:
            launch = f"{rng.randint(2026, 2028)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            markets.append({"code": code, "status": "planned", "launch_date": launch})
        else:
            markets.append({"code": code, "status": "active"})
    data = {
        "firm": {
            "name": f"Firm {index:04d} {rng.choice(['Trading', 'Goods', 'Designs', 'Supply'])}",
            "home_country": rng.choice(["CN", "US", "DE", "VN", "IN"]),
            "employees": rng.choice([3, 12, 40, 80, 250, 900]),
            "business_model": rng.choice(MODELS),
        },
        "channels": rng.sample(CHANNELS, rng.randint(1, 3)),
        "markets": markets,
        "products": [
            {
                "name": f"Product {index}-{n}",
                "origin": rng.choice(ORIGINS),
                "markets": rng.sample(codes, rng.randint(1, len(codes))),
                "clearance_search": rng.random() < 0.5,
            }
            for n in range(rng.randint(0, 3))
        ],
        "ip_assets": [
            {
                "type": rng.choice(ASSET_TYPES),
                "name": f"MARK{index}X{n}",
                "registrations": [{"jurisdiction": rng.choice(codes), "status": rng.choice(["registered", "pending"])}]
                if rng.random() < 0.5
                else [],
            }
            for n in range(rng.randint(0, 3))
        ],
        "confidentiality": {"employee_nda": rng.random() < 0.5, "supplier_nda": rng.random() < 0.5},
        "history": {"infringement_complaints": rng.randint(0, 4), "copycats_seen": rng.random() < 0.3},
    }
    if rng.random() < 0.4:
        data["firm"]["stage"] = rng.choice(STAGES)
    return data


def broken(data: dict, how: str) -> dict:
    """*data* made invalid in the way *how* names."""
    data = json.loads(json.dumps(data))
    if how == "unknown_key":
        data["firm"]["nmae"] = data["firm"].pop("name")
    elif how == "bad_market_code":
        data["markets"][0]["code"] = "usa"
    elif how == "missing_markets":
        del data["markets"]
    elif how == "duplicate_market":
        data["markets"].append(dict(data["markets"][0]))
    elif how == "unlisted_product_market":
        data["products"] = [{"name": "Stray", "origin": "generic", "markets": ["ZZ"]}]
    return data


def generate(count: int, seed: int = 7, invalid_every: int = 10) -> list[tuple[dict | str, bool]]:
    """*count* (profile, valid) pairs; every *invalid_every*-th one is broken (and every 50th is not JSON)."""
    rng = random.Random(seed)
    out = []
    for index in range(count):
        data = profile(rng, index)
        if invalid_every and index % invalid_every == invalid_every - 1:
            if index % 50 == 49:
                out.append((json.dumps(data)[:-5], False))  # a truncated line: not JSON at all
            else:
                out.append((broken(data, BREAKAGES[(index // invalid_every) % len(BREAKAGES)]), False))
        else:
            out.append((data, True))
    return out


def jsonl(pairs) -> str:
    """The profiles as JSON Lines text."""
    return "".join((p if isinstance(p, str) else json.dumps(p)) + "\n" for p, _ in pairs)
