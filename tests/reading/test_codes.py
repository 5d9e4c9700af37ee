"""Market and jurisdiction codes: ISO 3166-1 alpha-2 plus EU and WO, checked in profiles and rule packs."""

import json
import subprocess
import sys

import pycountry
from conftest import ROOT

from ipexpert._reading import codes as _codes

PROFILE = """\
firm:
  name: Zorb Ltd
  home_country: CN
markets:
  - code: {code}
    status: active
ip_assets:
  - type: trademark
    name: ZORB
"""


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "ipexpert", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def write(tmp_path, code, name="zorb.yaml"):
    path = tmp_path / name
    path.write_text(PROFILE.format(code=code), encoding="utf-8")
    return path


def test_xx_as_a_market_is_refused_with_its_place_and_a_suggestion(tmp_path):
    path = write(tmp_path, "XX")
    result = cli("evaluate", path, "--as-of", "2026-12-01")
    assert result.returncode == 1
    assert result.stdout == ""  # no outline, not even a partial one
    assert "Traceback" not in result.stderr
    line = result.stderr.strip().splitlines()[0]
    assert line.startswith(f"{path}:5:11: 'XX' is not an ISO 3166-1 alpha-2 country code (or EU); did you mean 'MX' (Mexico)")
    assert line.endswith("(at $.markets[0].code)")


def test_a_mistyped_code_gets_the_likely_market(tmp_path):
    result = cli("validate", write(tmp_path, "ON"))
    assert result.returncode == 1
    assert (
        "'ON' is not an ISO 3166-1 alpha-2 country code (or EU); did you mean 'CN' (China) or 'IN' (India)"
        in result.stdout + result.stderr
    )
    for typed, meant in (("cn", "'CN' (China)"), ("Germany", "'DE' (Germany)"), ("usa", "'US' (United States)")):
        out = cli("validate", write(tmp_path, typed))
        assert out.returncode == 1 and f"did you mean {meant}?" in out.stdout + out.stderr, typed


def test_uk_is_refused_and_the_message_says_gb(tmp_path):
    result = cli("validate", write(tmp_path, "UK"))
    assert result.returncode == 1
    assert (
        "'UK' is not an ISO 3166-1 code: the United Kingdom is GB; did you mean 'GB' (United Kingdom)?"
        in result.stdout + result.stderr
    )
    good = cli("evaluate", write(tmp_path, "GB"), "--as-of", "2026-12-01")
    assert good.returncode == 0, good.stderr
    assert "Register ZORB in GB" in good.stdout


def test_uk_is_refused_wherever_a_code_goes(tmp_path):
    path = tmp_path / "everywhere.yaml"
    path.write_text(
        "firm: {name: Zorb, home_country: UK}\n"
        "markets: [{code: GB, status: active}]\n"
        "products: [{name: Lamp, origin: own_design, markets: [UK]}]\n"
        "ip_assets:\n"
        "  - {type: trademark, name: ZORB, taken_in: [UK], registrations: [{jurisdiction: UK, status: registered},"
        " {jurisdiction: WO, status: registered, designations: [UK]}]}\n",
        encoding="utf-8",
    )
    result = cli("validate", path)
    lines = [line for line in (result.stdout + result.stderr).splitlines() if "'UK' is not an ISO 3166-1 code" in line]
    assert {line.rsplit("(at ", 1)[1] for line in lines} == {
        "$.firm.home_country)",
        "$.products[0].markets[0])",
        "$.ip_assets[0].taken_in[0])",
        "$.ip_assets[0].registrations[0].jurisdiction)",
        "$.ip_assets[0].registrations[1].designations[0])",
    }


def test_eu_is_a_market_and_wo_only_a_registration_jurisdiction(tmp_path):
    assert cli("validate", write(tmp_path, "EU")).returncode == 0
    result = cli("validate", write(tmp_path, "WO"))
    assert result.returncode == 1 and "'WO' is not an ISO 3166-1 alpha-2 country code (or EU)" in result.stdout + result.stderr
    path = tmp_path / "wo.yaml"
    path.write_text(
        PROFILE.format(code="US") + "    registrations: [{jurisdiction: WO, status: registered, designations: [US, EU]}]\n"
    )
    assert cli("validate", path).returncode == 0


def test_the_schema_enums_are_the_iso_list_and_editors_can_complete_every_code_field():
    schema = json.loads((ROOT / "schemas" / "firm-profile.schema.json").read_text(encoding="utf-8"))
    iso = sorted(c.alpha_2 for c in pycountry.countries)
    assert schema["$defs"]["country_code"]["enum"] == iso, "run scripts/update_code_enums.py"
    assert schema["$defs"]["market_code"]["enum"] == iso + ["EU"]
    assert schema["$defs"]["jurisdiction_code"]["enum"] == iso + ["EU", "WO"]
    assert "UK" not in schema["$defs"]["jurisdiction_code"]["enum"]
    props = schema["properties"]
    registration = props["ip_assets"]["items"]["properties"]["registrations"]["items"]["properties"]
    refs = {
        "home_country": props["firm"]["properties"]["home_country"],
        "market": props["markets"]["items"]["properties"]["code"],
        "product market": props["products"]["items"]["properties"]["markets"]["items"],
        "taken_in": props["ip_assets"]["items"]["properties"]["taken_in"]["items"],
        "jurisdiction": registration["jurisdiction"],
        "designation": registration["designations"]["items"],
    }
    for where, node in refs.items():
        assert node["$ref"].startswith("#/$defs/") and node["description"], where


BAD_PACK = """\
pack: local-markets
version: 1.0.0
facts:
  - jurisdiction:
      code: XX
      tm_months: 6
rules:
  - id: uk-sellers
    title: Sellers in the UK
    category: trademark
    when:
      - market: {code: UK}
      - registration: {jurisdiction: {in: [GB, EU, ON]}}
    recommend:
      priority: low
      actions: [Check the register]
    because: "the firm sells in the United Kingdom"
    source: [paper §2.3]
"""


def test_codes_in_rule_packs_are_checked_with_their_place(tmp_path):
    pack = tmp_path / "local.yaml"
    pack.write_text(BAD_PACK, encoding="utf-8")
    result = cli("rules", "check", pack, "--no-default-rules", cwd=tmp_path)
    assert result.returncode == 1
    out = result.stdout.splitlines()
    assert "local.yaml:5:13: 'XX' is not an ISO 3166-1 alpha-2 country code (or EU or WO); did you mean 'MX' (Mexico)" in out[0]
    assert out[0].endswith("(at $.facts[0].jurisdiction.code)")
    assert out[1].startswith("local.yaml:12:24: 'UK' is not an ISO 3166-1 code: the United Kingdom is GB; did you mean 'GB'")
    assert out[2].startswith("local.yaml:13:52: 'ON' is not an ISO 3166-1 alpha-2 country code")
    evaluated = cli("evaluate", ROOT / "examples" / "spinwell-trending.yaml", "--rules", pack, cwd=tmp_path)
    assert evaluated.returncode == 1 and "'XX' is not an ISO 3166-1" in evaluated.stderr


def test_every_example_and_test_case_uses_valid_codes():
    import yaml

    valid = set(_codes.jurisdiction_codes())
    for path in sorted((ROOT / "examples").glob("*.yaml")) + sorted((ROOT / "rules" / "tests").glob("*.yaml")):
        found: list[str] = []
        _codes_in(yaml.safe_load(path.read_text(encoding="utf-8")), None, found)
        assert not [c for c in found if c not in valid], path.name


def _codes_in(node, key, found: list) -> None:
    """Every string under a code-holding key of *node*, appended to *found*."""
    if isinstance(node, dict):
        for k, v in node.items():
            _codes_in(v, k, found)
    elif isinstance(node, list):
        for v in node:
            _codes_in(v, key, found)
    elif key in ("code", "jurisdiction", "home_country", "markets", "designations", "taken_in") and isinstance(node, str):
        found.append(node)
