"""The cache of checked rule packs: same outlines with it or without it, and never a stale or damaged entry trusted."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import AS_OF, EXAMPLES, ROOT, SPINWELL

from ipexpert import _api
from ipexpert._errors import InvalidRulePackError
from ipexpert._knowledge import cache as _cache
from ipexpert._knowledge import packs as _packs
from ipexpert._outputs import text as _text

PACK = """\
pack: acme-extra
version: 1.0.0
rules:
  - id: acme-note
    title: {title}
    category: trademark
    when:
      - firm: {{}}
    recommend:
      priority: low
      actions: [Keep a register of marks]
    because: A register shows what the firm owns.
    source: [paper §2.3]
"""


@pytest.fixture
def cache_folder(tmp_path, monkeypatch):
    folder = tmp_path / "cache" / "packs"
    monkeypatch.setattr(_cache, "folder", lambda: folder)
    monkeypatch.delenv("IPEXPERT_NO_CACHE", raising=False)
    return folder


def outlines(rules, examples=None) -> list[str]:
    """The outlines of *examples* (default: every example), JSON and text, in English and Chinese."""
    out = []
    for example in examples or sorted(EXAMPLES.glob("*.yaml")):
        for lang in ("en", "zh-CN"):
            outline = _api.evaluate(example, rules, AS_OF, lang=lang)
            out += [_text.render(outline, "json"), _text.render(outline, "text")]
    return out


def no_yaml_parsing(monkeypatch):
    def refuse(raw, name):
        raise AssertionError(f"{name} was parsed and checked again")

    monkeypatch.setattr(_packs, "_checked", refuse)


def test_outlines_are_the_same_from_the_cache_and_without_it(cache_folder, monkeypatch):
    monkeypatch.setenv("IPEXPERT_NO_CACHE", "1")
    uncached = outlines(_api.load_rules())
    assert not cache_folder.exists()
    monkeypatch.delenv("IPEXPERT_NO_CACHE")
    first = outlines(_api.load_rules())  # checks the packs and fills the cache
    assert len(list(cache_folder.glob("*.json"))) == len(_packs.pack_files([_packs._resources.rules_dir()]))
    no_yaml_parsing(monkeypatch)
    cached = outlines(_api.load_rules())
    assert cached == first == uncached


def test_an_edited_user_pack_is_read_again(cache_folder, tmp_path):
    pack = tmp_path / "mine" / "extra.yaml"
    pack.parent.mkdir()
    pack.write_text(PACK.format(title="Keep a register of marks"), encoding="utf-8")
    before = _api.evaluate(SPINWELL, _api.load_rules(pack.parent), AS_OF)
    pack.write_text(PACK.format(title="Keep a written register of marks"), encoding="utf-8")
    after = _api.evaluate(SPINWELL, _api.load_rules(pack.parent), AS_OF)
    titles = lambda outline: {r.title for r in outline.recommendations}  # noqa: E731
    assert "Keep a register of marks" in titles(before)
    assert "Keep a written register of marks" in titles(after) and "Keep a register of marks" not in titles(after)


def test_an_edited_bundled_pack_is_read_again(cache_folder):
    texts = _packs.sources()
    _packs.load_sources(texts)  # every bundled pack is now cached
    name, raw = next((name, raw) for name, raw in texts if name.endswith("paper-core.yaml"))
    first = _packs.load_sources([(name, raw)])[0].rules[0]
    edited = raw.replace(first.data["title"].encode("utf-8"), b"An edited title", 1)
    assert edited != raw
    assert _packs.load_sources([(name, edited)])[0].rules[0].data["title"] == "An edited title"


def test_a_pack_with_a_problem_is_never_cached(cache_folder, tmp_path):
    pack = tmp_path / "broken.yaml"
    pack.write_text(PACK.format(title="x").replace("priority: low", "priority: lowest"), encoding="utf-8")
    for _ in range(2):
        with pytest.raises(InvalidRulePackError) as caught:
            _packs.load([pack], defaults=False)
        assert "lowest" in str(caught.value)
    assert not cache_folder.exists() or not list(cache_folder.glob("*.json"))


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"",
        lambda data: data[: len(data) // 2],
        lambda data: b"\x00garbage\n{}",
        lambda data: data.replace(b'"pack":"', b'"pack":"x', 1),  # the body no longer matches its checksum
        lambda data: data.split(b"\n", 1)[0] + b"\n" + b'{"data": [], "positions": [], "key_positions": []}',
    ],
    ids=["empty", "truncated", "garbage", "body-edited", "wrong-shape"],
)
def test_a_damaged_entry_is_rebuilt_without_an_error(cache_folder, monkeypatch, damage):
    expected = outlines(_api.load_rules(), [SPINWELL])
    for entry in cache_folder.glob("*.json"):
        entry.write_bytes(damage(entry.read_bytes()))
    assert outlines(_api.load_rules(), [SPINWELL]) == expected
    no_yaml_parsing(monkeypatch)  # every entry was written again, whole
    assert outlines(_api.load_rules(), [SPINWELL]) == expected


def test_an_entry_of_another_release_is_not_read(cache_folder, monkeypatch):
    import ipexpert

    _api.load_rules()
    written = set(cache_folder.glob("*.json"))
    monkeypatch.setattr(ipexpert, "__version__", ipexpert.__version__ + ".post1")
    _api.load_rules()
    assert set(cache_folder.glob("*.json")) > written  # a second set of entries, under the new release's key


def _cli(env_changes, *args):
    env = {k: v for k, v in os.environ.items() if k != "IPEXPERT_NO_CACHE"}
    env.update(env_changes)
    return subprocess.run(
        [sys.executable, "-m", "ipexpert", *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300
    )


@pytest.mark.skipif(sys.platform != "linux", reason="the user cache folder is set through XDG_CACHE_HOME on Linux")
def test_a_cache_folder_that_cannot_be_written_gives_the_same_outline(tmp_path):
    evaluate = ("evaluate", str(SPINWELL), "--format", "json", "--as-of", AS_OF)
    not_a_folder = tmp_path / "cache-home"
    not_a_folder.write_text("a file where the cache folder would go\n", encoding="utf-8")  # unwritable, even for root
    read_only = _cli({"XDG_CACHE_HOME": str(not_a_folder)}, *evaluate)
    assert read_only.returncode == 0 and read_only.stderr == ""
    cached_home = tmp_path / "home-cache"
    first = _cli({"XDG_CACHE_HOME": str(cached_home)}, *evaluate)
    second = _cli({"XDG_CACHE_HOME": str(cached_home)}, *evaluate)
    off = _cli({"XDG_CACHE_HOME": str(tmp_path / "unused"), "IPEXPERT_NO_CACHE": "1"}, *evaluate)
    assert read_only.stdout == first.stdout == second.stdout == off.stdout
    assert list((cached_home / "ipexpert" / "packs").glob("*.json"))
    assert not (tmp_path / "unused").exists()
