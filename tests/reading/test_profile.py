"""Profile checking: schema errors name the line, the path and the closest valid word."""

import pytest

import ipexpert

BASE = """\
firm:
  name: Acme
  home_country: CN
  stage: {stage}
markets:
  - code: US
    status: active
confidentiality:
  {key}: true
"""


def problems(text):
    return [p.format() for p in ipexpert.validate(text, name="p.yaml")]


def test_a_valid_profile_has_no_problems():
    assert problems(BASE.format(stage="development", key="employee_nda")) == []


def test_a_misspelt_stage_names_the_line_and_suggests_the_value():
    assert problems(BASE.format(stage="growing", key="employee_nda")) == [
        "p.yaml:4:10: 'growing' is not one of startup, development, growth, stable; did you mean 'growth'? (at $.firm.stage)"
    ]


def test_a_misspelt_key_is_an_error_with_the_closest_key():
    assert problems(BASE.format(stage="development", key="employe_nda")) == [
        "p.yaml:9:3: unknown key 'employe_nda'; did you mean 'employee_nda'? (at $.confidentiality.employe_nda)"
    ]


def test_text_that_is_not_yaml_is_one_error_with_a_line():
    (line,) = problems("firm: [unclosed\nmarkets: x\n")
    assert line.startswith("p.yaml:")
    assert "not valid YAML" in line


@pytest.mark.parametrize(
    "extra, message",
    [
        (
            "products:\n  - {name: A, origin: generic, markets: [JP]}\n",
            "product sold in JP, which is not among the firm's markets",
        ),
        (
            "ip_assets:\n  - type: trademark\n    name: A\n    registrations:\n      - {jurisdiction: US, status: registered, filed: 2024-01-01, expires: 2023-01-01}\n",
            "not after it was filed",
        ),
        ("ip_assets:\n  - {type: trademark, name: A}\n  - {type: trademark, name: A}\n", "is listed twice"),
    ],
    ids=["product-market", "expires-before-filed", "duplicate-asset"],
)
def test_consistency_problems_the_schema_cannot_see(extra, message):
    text = BASE.format(stage="development", key="employee_nda") + extra
    found = problems(text)
    assert len(found) == 1 and message in found[0] and found[0].startswith("p.yaml:")


def test_a_dict_profile_is_accepted():
    profile = {"firm": {"name": "A", "home_country": "CN"}, "markets": [{"code": "US", "status": "active"}]}
    assert ipexpert.validate(profile) == []
    outline = ipexpert.evaluate(profile, as_of="2026-11-25")
    assert outline.firm["name"] == "A"


def test_json_text_is_read_like_yaml():
    text = '{"firm": {"name": "A", "home_country": "CN"}, "markets": [{"code": "US", "status": "sold"}]}'
    (line,) = problems(text)
    assert "'sold' is not one of active, planned" in line and line.startswith("p.yaml:1:")


@pytest.mark.parametrize("as_of", ["0001-01-01", "9999-12-31", "yesterday"])
def test_a_bad_as_of_is_an_ipexpert_error_not_a_crash(as_of):
    profile = {"firm": {"name": "A", "home_country": "CN"}, "markets": [{"code": "US", "status": "active"}]}
    with pytest.raises(ipexpert.IPExpertError) as caught:
        ipexpert.evaluate(profile, as_of=as_of)
    assert "as_of" in str(caught.value)


REG = "ip_assets:\n  - type: {type}\n    name: A\n{extra}    registrations:\n      - {{jurisdiction: {where}, status: {status}, filed: 2025-01-10, registered: {registered}}}\n"


@pytest.mark.parametrize(
    "fields, expected",
    [
        (
            dict(type="trademark", where="CN", status="registered", registered="2025-05-12", extra=""),
            "p.yaml:14:79: registered 4 month(s) after filing in CN, which is not possible: a Chinese trademark is registered"
            " only after examination and a 3-month opposition period after publication (Trademark Law arts. 28, 33);"
            " check both dates (at $.ip_assets[0].registrations[0].registered)",
        ),
        (
            dict(type="trademark", where="US", status="registered", registered="2024-12-01", extra=""),
            "p.yaml:14:79: registered 2024-12-01, before it was filed (2025-01-10) (at $.ip_assets[0].registrations[0].registered)",
        ),
        (
            dict(type="trademark", where="US", status="pending", registered="2025-09-01", extra=""),
            "p.yaml:14:76: a registration date is given, but the status is pending (set status: registered, or remove the date)"
            " (at $.ip_assets[0].registrations[0].registered)",
        ),
        (
            dict(type="design", where="US", status="registered", registered="2025-09-01", extra="    invented_in: CN\n"),
            "p.yaml:13:18: invented_in is for patents and utility models, not a design (at $.ip_assets[0].invented_in)",
        ),
    ],
    ids=["cn-registered-in-4-months", "registered-before-filed", "date-on-pending", "inventor-country-on-design"],
)
def test_impossible_registration_facts_are_errors_at_their_line(fields, expected):
    text = BASE.format(stage="development", key="employee_nda") + REG.format(**fields)
    assert problems(text) == [expected]


def test_a_chinese_registration_after_a_normal_procedure_is_accepted():
    text = BASE.format(stage="development", key="employee_nda") + REG.format(
        type="trademark", where="CN", status="registered", registered="2025-11-20", extra=""
    )
    assert problems(text) == []
