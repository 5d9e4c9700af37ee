"""`ipexpert rules diff OLD NEW BOOK`: whose advice a pack release changes."""

import json

from conftest import AS_OF


def house_pack(folder, version, body=""):
    folder.mkdir()
    (folder / "house.yaml").write_text(f"pack: house\nversion: {version}\n{body}", encoding="utf-8")
    return folder


RELEASE = """overrides:
  - rule: paper-core/register-brand-before-entry
    priority: medium
disable:
  - us-litigation/schedule-a-playbook-dated
"""


def test_a_release_shows_the_clients_whose_advice_a_changed_rule_alters_and_no_other(invoke, book, tmp_path):
    old, new = house_pack(tmp_path / "v1.0", "1.0.0"), house_pack(tmp_path / "v1.1", "1.1.0", RELEASE)
    result = invoke("rules", "diff", old, new, book, "--as-of", AS_OF, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["rule_packs"]["old"] != data["rule_packs"]["new"] and "house 1.1.0" in data["rule_packs"]["new"]
    affected = {c["client"] for c in data["clients"] if c["changed"]}
    assert affected == {"Desert Rose Cosmetics", "Nova Gadgets", "Harbor Lights Trading"}
    assert data["summary"]["clients"] == 12 and data["summary"]["clients_affected"] == 3
    assert data["summary"]["items_changed_per_rule"] == {
        "paper-core/register-brand-before-entry": 2,
        "us-litigation/schedule-a-playbook-dated": 2,  # its recommendation and its risk
    }
    harbor = next(c for c in data["clients"] if c["client"] == "Harbor Lights Trading")["changes"]["recommendations"]
    assert [item["id"] for item in harbor["disappeared"]] == ["schedule-a-playbook-dated"] and not harbor["appeared"]
    nova = next(c for c in data["clients"] if c["client"] == "Nova Gadgets")["changes"]["recommendations"]["changed"]
    assert nova == [
        {
            "id": "register-brand-before-entry:novalux:gb",
            "rule": "paper-core/register-brand-before-entry",
            "title": "Register NOVALUX in GB before selling there",
            "priority": ["critical", "medium"],
        }
    ]
    text = invoke("rules", "diff", old, new, book, "--as-of", AS_OF).stdout
    assert "--- house 1.0.0\n+++ house 1.1.0\n" in text and "3 of 12 client(s) affected" in text
    assert "~ recommendation register-brand-before-entry:novalux:gb: priority critical -> medium" in text


def test_the_same_packs_change_nobody(invoke, book, tmp_path):
    same = house_pack(tmp_path / "same", "1.0.0")
    result = invoke("rules", "diff", same, same, book, "--as-of", AS_OF)
    assert result.exit_code == 0 and result.stdout.endswith("0 of 12 client(s) affected\n")


def test_a_broken_new_pack_is_its_error_line(invoke, book, tmp_path):
    old, new = (
        house_pack(tmp_path / "old", "1.0.0"),
        house_pack(tmp_path / "new", "1.1.0", "disable: [paper-core/no-such-rule]\n"),
    )
    result = invoke("rules", "diff", old, new, book, "--as-of", AS_OF)
    assert result.exit_code == 1 and f"{new / 'house.yaml'}:3:" in result.stderr and "no-such-rule" in result.stderr
