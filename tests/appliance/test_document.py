"""Configuration documents read as untrusted input (pure): libyaml when present and the
pure-Python parser otherwise give the same values, the same refusals and the same limits."""

from __future__ import annotations

import pytest
import yaml

from appliance.document import (LIBYAML, MAX_DEPTH, MAX_NODES, DocumentError, FastLoader, PureLoader,
                                read_document, write_yaml)

LOADERS = [pytest.param(PureLoader, id="pure"), pytest.param(FastLoader, id="libyaml")]
DOCUMENT = {"version": 1,
            "monitors": [{"name": "DB", "type": "tcp", "target": "127.0.0.1", "port": 5432, "keyword": None,
                          "check_locations": ["all"], "is_active": False}],
            "maintenance": [{"name": "Patching", "monitors": ["DB"], "starts_at": None,
                             "recurring": {"weekdays": ["sun"], "start": "02:00", "duration_minutes": 60}}]}


def test_the_installed_pyyaml_has_libyaml():
    assert LIBYAML and FastLoader is not PureLoader


@pytest.mark.parametrize("loader", LOADERS)
def test_it_reads_what_it_writes(loader):
    assert read_document(write_yaml(DOCUMENT).encode(), "yaml", loader) == DOCUMENT


@pytest.mark.parametrize("loader", LOADERS)
def test_a_clock_time_stays_text_and_numbers_stay_numbers(loader):
    text = b"start: 12:30\nport: 0x1F\nretries: 010\nratio: 1.5e+3\ninf: .inf\nlate: 2030-01-01T00:00:00Z\n"
    value = read_document(text, "yaml", loader)
    assert value["start"] == "12:30" and value["port"] == 31 and value["retries"] == 8
    assert value["ratio"] == 1500.0 and value["inf"] == float("inf")
    assert value["late"].isoformat() == "2030-01-01T00:00:00+00:00"


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("text", [
    "a: &a [x, x]\nb: *a\n",  # an alias of a list
    "a: &a [x]\nb: &b [*a, *a]\nc: [*b, *b]\n",  # the start of a billion laughs
    "&a [*a]",  # one that contains itself
    "a: &x 1\nb: *x\n",  # even of a scalar
])
def test_it_refuses_anchors_and_aliases(loader, text):
    with pytest.raises(DocumentError) as refused:
        read_document(text.encode(), "yaml", loader)
    assert "alias" in refused.value.message and refused.value.details == {"body": "aliases are not allowed"}


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("text", ["- " * 3000 + "x", "[" * 100_000, "a:\n" + "".join(" " * i + "a:\n" for i in range(1, 40)),
                                  "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)])
def test_it_refuses_deep_nesting_naming_the_limit(loader, text):
    with pytest.raises(DocumentError) as refused:
        read_document(text.encode(), "yaml", loader)
    assert f"more than {MAX_DEPTH} levels" in refused.value.message


def test_it_reads_nesting_up_to_the_limit():
    text = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    assert read_document(text.encode(), "yaml") == read_document(text.encode(), "json")


@pytest.mark.parametrize("kind, text", [
    ("yaml", "[" + "0," * MAX_NODES + "0]"),
    ("yaml", "[" + "!!str a," * MAX_NODES + "a]"),  # explicitly tagged values count too
    ("yaml", "- 0\n" * (MAX_NODES + 1)),
    ("json", "[" + "0," * MAX_NODES + "0]"),
])
def test_it_refuses_too_many_values_naming_the_limit(kind, text):
    with pytest.raises(DocumentError) as refused:
        read_document(text.encode(), kind)
    assert f"more than {MAX_NODES:,} values" in refused.value.message


@pytest.mark.parametrize("text, problem", [
    ("[" * 100_000 + "]" * 100_000, "more than 32 levels"),  # RecursionError inside json
    ("[1, 2", "not valid JSON"),
    ('{"a": ' + "1" * 5000 + "}", "4300 digits"),
    (b"\xff\xfe\x00", "not valid JSON"),
])
def test_it_explains_bad_json(text, problem):
    with pytest.raises(DocumentError) as refused:
        read_document(text if isinstance(text, bytes) else text.encode(), "json")
    assert problem in refused.value.message and "set_int_max_str_digits" not in refused.value.message


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("text", ["a: [", "a: 1\n---\nb: 2\n", "a: \x00", "a: 2030-13-01", "? [a]\n: b\n",
                                  "a: !!python/object:object {}", "a: " + "1" * 5000])
def test_it_explains_bad_yaml(loader, text):
    with pytest.raises(DocumentError) as refused:
        read_document(text.encode(), "yaml", loader)
    assert refused.value.message.startswith("The body is not valid YAML (") and refused.value.message.endswith(").")


def test_the_fast_loader_is_faster_on_a_large_document():
    """Not a benchmark: libyaml should read a 200 KB document in well under the pure parser's time."""
    import time

    text = write_yaml({"monitors": [{**DOCUMENT["monitors"][0], "name": f"m{i}", "check_locations": ["all"]}
                                    for i in range(1500)]}).encode()
    times = {}
    for loader in (PureLoader, FastLoader):
        started = time.process_time()
        assert len(read_document(text, "yaml", loader)["monitors"]) == 1500
        times[loader] = time.process_time() - started
    assert times[FastLoader] < times[PureLoader]


def test_an_empty_yaml_document_is_nothing():
    assert read_document(b"", "yaml") is None and read_document(b"# just a comment\n", "yaml") is None
    assert yaml.safe_load(write_yaml({"a": "ü"})) == {"a": "ü"}
