"""Malformed and hostile files are rejected with a message naming the field; never a crash."""

from __future__ import annotations

import copy
import math
import time

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toe_twitch.errors import PriorsError, VignetteError
from toe_twitch.priors import DEFAULT_PRIORS_PATH, parse_priors_text
from toe_twitch.safe_yaml import MAX_BYTES, parse_yaml_text
from toe_twitch.vignettes import load_vignettes

DEFAULT = yaml.safe_load(DEFAULT_PRIORS_PATH.read_text())

BAD_VALUES = st.one_of(
    st.just(float("nan")),
    st.just(float("inf")),
    st.just(-float("inf")),
    st.floats(min_value=1.0001, max_value=1e9),
    st.floats(max_value=-1e-9, min_value=-1e9),
    st.text(max_size=20),
    st.none(),
    st.lists(st.integers(), max_size=3),
    st.booleans(),
)


def _paths(node, prefix=()):
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _paths(child, (*prefix, key))
    else:
        yield prefix


LEAF_PATHS = [p for p in _paths(DEFAULT) if p and p[-1] in ("value", "low", "high")]


def _set(data, path, value):
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value



def _dump(data) -> str:
    """YAML text of ``data`` by libyaml's emitter when present (as fast as the reader)."""
    return yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
                     allow_unicode=True)

@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(LEAF_PATHS), BAD_VALUES)
def test_a_broken_number_is_rejected_naming_its_field(path, value):
    """Any parameter set to NaN, inf, out of range, text, null, a list or a bool is refused."""
    odds_ratio = path[0] == "causes" and path[2] == "risk_factors"
    if odds_ratio and isinstance(value, float) and math.isfinite(value) and value > 1:
        value = -value  # odds ratios may exceed 1; make it invalid instead
    data = copy.deepcopy(DEFAULT)
    _set(data, path, value)
    text = _dump(data)
    with pytest.raises(PriorsError) as info:
        parse_priors_text(text, source="fuzz.yaml")
    assert ".".join(map(str, path[:-1])) in str(info.value)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_missing_extra_and_renamed_keys_are_named(data):
    """Drop a key, add an unknown key, or rename an id anywhere: a clear error, never a crash."""
    doc = copy.deepcopy(DEFAULT)
    dict_paths = [p for p in _paths_to_dicts(doc) if p]
    path = data.draw(st.sampled_from(dict_paths))
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    action = data.draw(st.sampled_from(["drop", "extra", "rename"]))
    if action == "drop":
        del parent[path[-1]]
    elif action == "extra":
        if isinstance(parent[path[-1]], dict):
            parent[path[-1]] = {**parent[path[-1]], "surprise_key": 1}
        else:
            parent["surprise_key"] = 1
    else:
        parent[str(path[-1]) + "_x"] = parent.pop(path[-1])
    text = _dump(doc)
    try:
        parse_priors_text(text, source="fuzz.yaml")
    except PriorsError as exc:
        assert exc.problems and all(p.rule for p in exc.problems)
    else:  # only optional entries may be dropped without error
        optional_parent = len(path) >= 2 and path[-2] in ("links", "risk_factors")
        assert action == "drop" and (
            path[-1] in ("name", "description") or optional_parent
            or (path[0] == "causes" and path[-1] == "risk_factors")
        ), (action, path)


def _paths_to_dicts(node, prefix=()):
    if isinstance(node, dict):
        yield prefix
        for key, child in node.items():
            if isinstance(child, dict):
                yield from _paths_to_dicts(child, (*prefix, key))
            else:
                yield (*prefix, key)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_crashes_the_priors_reader(text):
    try:
        parse_priors_text(text, source="fuzz.yaml")
    except PriorsError as exc:
        assert str(exc).startswith("fuzz.yaml:")


def test_billion_laughs_is_refused_quickly():
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    start = time.perf_counter()
    data, problems = parse_yaml_text("\n".join(lines))
    assert data is None and "not allowed" in str(problems[0])
    assert time.perf_counter() - start < 1.0


def test_deep_nesting_and_huge_files_are_refused():
    deep = "a: " + "[" * 5000 + "]" * 5000
    with pytest.raises(PriorsError):
        parse_priors_text(deep, source="deep.yaml")
    huge = "name: " + "x" * (MAX_BYTES + 10)
    with pytest.raises(PriorsError, match="larger than the limit"):
        parse_priors_text(huge, source="huge.yaml")


@pytest.mark.parametrize(
    "tag",
    ["!!python/object/apply:os.system ['true']", "!!python/name:os.system", "!!binary aGk=\n",
     "!custom {a: 1}"],
)
def test_object_building_tags_are_refused(tag):
    with pytest.raises(PriorsError):
        parse_priors_text(f"schema_version: 1\nname: {tag}", source="tag.yaml")


VIGNETTE_MUTATIONS = [
    ("vignettes: []", "vignettes"),
    ("vignettes: [{id: a, findings: {leg_pain: maybe}, expect: {urgency: [self_care]}}]", "unknown state"),
    ("vignettes: [{id: a, findings: {leg_pain: present}, expect: {urgency: []}}]", "urgency"),
    ("vignettes: [{id: a, findings: {leg_pain: present}, expect: {urgency: [self_care]}, x: 1}]", "x"),
    ("vignettes: [{findings: {leg_pain: present}, expect: {urgency: [self_care]}}]", "id"),
    ("vignettes: [{id: a, findings: [leg_pain], expect: {urgency: [self_care]}}]", "findings"),
    ("vignettes: {a: 1}", "vignettes"),
    ("just text", "mapping"),
]


@pytest.mark.parametrize(("text", "expected"), VIGNETTE_MUTATIONS)
def test_bad_vignette_files_are_rejected_with_the_place(tmp_path, text, expected):
    path = tmp_path / "v.yaml"
    path.write_text(text)
    with pytest.raises(VignetteError) as info:
        load_vignettes(path)
    assert expected in str(info.value)
    assert str(path) in str(info.value)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
                    max_leaves=20))
def test_any_data_shape_as_a_vignette_file_is_rejected_cleanly(tmp_path_factory, doc):
    path = tmp_path_factory.mktemp("fuzz") / "v.yaml"
    path.write_text(yaml.safe_dump({"vignettes": doc}))
    try:
        load_vignettes(path)
    except VignetteError:
        pass


def test_an_uploaded_priors_file_with_a_key_twice_is_refused_with_its_line():
    """The page's upload reads through the same loader: the second ``value`` is named."""
    text = DEFAULT_PRIORS_PATH.read_text().replace("{value: 0.05,", "{value: 0.05, value: 0.5,", 1)
    with pytest.raises(PriorsError) as info:
        parse_priors_text(text, source="upload.yaml")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "value: 0.5," in row)
    assert str(info.value).endswith(
        f"upload.yaml: line {line}: duplicate key 'value' (first given on line {line}); each key "
        "may appear only once in a mapping, or the last one would silently win"
    )


def test_an_uploaded_vignette_file_with_a_finding_twice_is_refused():
    from toe_twitch.vignettes import parse_vignettes_text

    text = (
        "vignettes:\n- id: a\n  findings:\n    leg_pain: present\n    leg_pain: absent\n"
        "  expect: {urgency: [self_care]}\n"
    )
    with pytest.raises(VignetteError, match=r"upload\.yaml: line 5: duplicate key 'leg_pain' "
                       r"\(first given on line 4\)"):
        parse_vignettes_text(text, source="upload.yaml")


@pytest.mark.parametrize(
    ("typed", "read"),
    [("010", "010"), ("1:20", "1:20"), ("0x6", "0x6"), ("0b110", "0b110"), ("1_0", "1_0"),
     (".inf", ".inf"), ("-.inf", "-.inf"), (".nan", ".nan"), ("0o7", "0o7"),
     ("10", 10), ("-3", -3), ("0.05", 0.05), ("5e-2", 0.05), ("1.0e-05", 1e-05), (".5", 0.5)],
)
def test_only_plain_decimals_are_read_as_numbers(typed, read):
    """YAML 1.1's other number forms stay the text typed (a number field then refuses it)."""
    data, problems = parse_yaml_text(f"x: {typed}\n")
    assert problems == [] and data["x"] == read and type(data["x"]) is type(read)
