"""Network files: export the model's network for other tools, and read one back.

Five formats, written and read through pgmpy's writers and readers (``BIFWriter`` /
``BIFReader`` and so on), so other tools (GeNIe, Hugin, SamIam, pyAgrum, UAI solvers) can
open the network and the project can run inference on a network file:

======  ==================  ==========================  ==================================
format  extensions          probabilities written as    names and labels
======  ==================  ==========================  ==================================
bif     .bif                every digit (shortest       variable and state names; labels
                            round-trip decimal)         as ``property label = ...``
xmlbif  .xmlbif .bifxml     every digit                 names; labels as ``<PROPERTY>``
        .xml
xdsl    .xdsl               16 decimals (pgmpy's        names as node ids; labels as the
                            XDSLWriter)                 GeNIe node names
net     .net                every digit (see below)     names; labels as Hugin ``label``
uai     .uai                every digit                 none: UAI has only numbers (see
                                                        below)
======  ==================  ==========================  ==================================

Where pgmpy 1.1.2 itself loses information, the fix is small and local:

* ``NETWriter`` rounds every probability to 8 decimals. The smallest entries of this
  network are rare-disease prevalences (ALS in children: 9.2e-08), which 8 decimals
  change by up to 5 %; :class:`FullPrecisionNETWriter` prints every digit instead.
  ``NETReader`` rescans the whole file once per node for its states (over a minute for
  this network); :class:`LinearNETReader` reads them in one pass.
* ``UAIWriter`` writes each table with the child's state changing *slowest* and prints
  small numbers as ``9e-08``; the UAI format has the child (last in the scope) changing
  fastest, and pgmpy's own ``UAIReader`` cannot parse exponents. The export keeps
  pgmpy's preamble (variable numbering, domains, scopes) and writes the tables in the
  format's order, in plain decimals, one function per variable in variable order (which
  pyAgrum requires). Reading uses :func:`read_uai`, which follows the format. pgmpy's
  ``UAIReader`` lays tables out child-first (and takes minutes on this file).

Other readers have their own limits (tests/test_interop.py measures them): pyAgrum 3.3.1
stores the numbers of BIF, NET and UAI files as single-precision floats (a relative 6e-8
per entry), and for nodes with two or more parents reads XDSL and UAI tables with the
*first* parent changing fastest after the child, where SMILE's documentation and the UAI
format have the last parent change fastest (pyAgrum's own writer does the same, so its
files round-trip among themselves). With pyAgrum, use XMLBIF (exact), BIF or NET.
* UAI files carry no names. Variables are numbered as pgmpy's ``UAIWriter`` numbers them
  (by number of states, then name), so :func:`read_uai` names them from the variables of
  the toe-twitch network built from the default priors, and refuses a file whose
  structure does not match that network.

Sizes and reading back (measured once, 7 Dec 2026: the network of 67 variables and 266
arcs, pgmpy 1.1.2, Python 3.11.7, two shared CPUs; ``load_model(path)`` in a fresh
process, CPU seconds, wall seconds on a busy machine in brackets):

======  =======  ==================
format  size     read back
======  =======  ==================
xmlbif  3.8 MB   1.9 s (2.2 s)
xdsl    5.9 MB   2.0 s (6.8 s)
uai     3.8 MB   2.1 s (3.7 s)
bif     23 MB    37 s (88 s)
net     4.7 MB   46 s (66 s)
======  =======  ==================

BIF is large because it writes one line per parent combination, naming every parent's
state: the four findings about the twitching have the age, the twitching and all twelve
causes as parents (32,768 lines, about 5 MB each). pgmpy's BIF and NET parsers take most
of the reading time.
For large exchanges, use XMLBIF (exact, read by pgmpy and pyAgrum), or XDSL for GeNIe.

A network file has CPTs only: no prior ranges, no sources, no urgency thresholds. A
model loaded from one (``load_model("network.bif")``) answers diagnose, posterior_batch,
explain, what_if and next_questions; sensitivity, uncertainty, vignette sensitivity and
anything else that needs the priors raise :class:`~toe_twitch.errors.PriorsRequiredError`.
Its urgency uses the serious-cause thresholds of the default priors file (see
:attr:`~toe_twitch.core.ToeTwitchModel.thresholds_source`).

>>> import tempfile, pathlib
>>> from toe_twitch import load_model
>>> m = load_model()
>>> out = pathlib.Path(tempfile.mkdtemp()) / "toe_twitch.xdsl"
>>> export_network(m, out).name
'toe_twitch.xdsl'
>>> again = load_model(out)
>>> round(again.diagnose({"age_group": "adult"}).ranking[0][1], 6) == round(
...     m.diagnose({"age_group": "adult"}).ranking[0][1], 6)
True
"""

from __future__ import annotations

import difflib
import logging
import math
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from toe_twitch.errors import FileReadError, NetworkFileError, Problem, ToeTwitchError
from toe_twitch.files import check_target, read_bounded, write_atomic
from toe_twitch.network import Structure, Tables
from toe_twitch.priors import AGE_FINDING
from toe_twitch.vocabulary import CAUSE_STATES, Vocabulary, load_vocabulary

if TYPE_CHECKING:
    from pgmpy.models import DiscreteBayesianNetwork

    from toe_twitch.core import ToeTwitchModel

#: Name written into the files that have one (BIF, XMLBIF, NET header; XDSL id).
NETWORK_NAME = "toe_twitch"
#: Largest network file read (bytes): the toe-twitch network is about 23 MB as BIF, the
#: largest of the five formats (see "Sizes and reading back" in the module docstring).
MAX_NETWORK_BYTES = 64 * 2**20
#: Agreement of the project's exact engine with pgmpy and pyAgrum (tests/test_engine.py).
ENGINE_TOLERANCE = 1e-9
#: Relative rounding of a reader that stores single-precision floats (pyAgrum 3.3.1 reads
#: BIF, NET and UAI numbers this way; XMLBIF and XDSL in double precision).
SINGLE_PRECISION = 2.0**-24
#: A CPT column may sum to 1 within this much (printed decimals, other tools' rounding).
COLUMN_SUM_TOLERANCE = 1e-6


@dataclass(frozen=True)
class NetworkFormat:
    """One network file format: how it is named, written and what it carries."""

    name: str
    title: str
    extensions: tuple[str, ...]
    #: Decimals the writer prints; ``None`` means every digit (lossless).
    decimals: int | None
    #: Whether variable and state names are in the file.
    carries_names: bool
    #: Where the vocabulary's labels go, or ``""`` if the format has no place for them.
    labels: str

    @property
    def extension(self) -> str:
        """The extension :func:`export_network` suggests."""
        return self.extensions[0]


FORMATS: dict[str, NetworkFormat] = {
    f.name: f
    for f in (
        NetworkFormat("bif", "BIF", (".bif",), None, True, "property label = ..."),
        NetworkFormat(
            "xmlbif", "XMLBIF", (".xmlbif", ".bifxml", ".xml"), None, True, "<PROPERTY>label = ..."
        ),
        NetworkFormat("xdsl", "XDSL (GeNIe)", (".xdsl",), 16, True, "GeNIe node name"),
        NetworkFormat("net", "NET (Hugin)", (".net",), None, True, 'label = "..."'),
        NetworkFormat("uai", "UAI", (".uai",), None, False, ""),
    )
}


def format_for_path(path: str | Path) -> NetworkFormat | None:
    """The network format a file name's extension stands for, or None."""
    suffix = Path(path).suffix.lower()
    return next((f for f in FORMATS.values() if suffix in f.extensions), None)


def get_format(name: str) -> NetworkFormat:
    """The :class:`NetworkFormat` called ``name``; a clear error listing the valid names."""
    if name not in FORMATS:
        raise ToeTwitchError(
            f"unknown network format {name!r}; valid formats: {', '.join(FORMATS)}"
        )
    return FORMATS[name]


@contextmanager
def _quiet_pgmpy() -> Iterator[None]:
    """Silence pgmpy's logger (it warns about things this module checks itself)."""
    logger = logging.getLogger("pgmpy")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


# ---------------------------------------------------------------------------- writing
@cache
def _pgmpy_classes():
    """pgmpy's NET writer and reader with the two fixes described above (built on first use,
    so importing this module does not import pgmpy)."""
    from pgmpy.readwrite import NETReader, NETWriter

    class FullPrecisionNETWriter(NETWriter):
        """pgmpy's NETWriter, printing every digit of each probability (not 8 decimals)."""

        def net_cpd(self, var_name: str) -> str:
            table = np.moveaxis(np.asarray(self.tables[var_name], dtype=float), 0, -1)

            def nest(block: np.ndarray) -> str:
                if block.ndim == 1:
                    return "(" + " ".join(repr(float(x)) for x in block) + ")"
                return "(" + "\n  ".join(nest(b) for b in block) + ")"

            return nest(table)

    class LinearNETReader(NETReader):
        """pgmpy's NETReader, reading every node's states in one pass over the file."""

        def get_states(self) -> dict[str, list[str]]:
            names = [match[0].nodename for match in self.name_expr.scan_string(self.network)]
            found = [match[0].statenames for match in self.state_expr.scan_string(self.network)]
            return {
                name: [state.replace('"', "") for state in states]
                for name, states in zip(names, found, strict=False)
            }

    return FullPrecisionNETWriter, LinearNETReader


def _label(vocabulary: Vocabulary, variable: str) -> str:
    """The vocabulary's label, without the characters the formats use as delimiters."""
    entry = vocabulary.causes.get(variable) or vocabulary.findings.get(variable)
    text = entry.label if entry is not None else variable
    for bad in ';={}"\n':
        text = text.replace(bad, " ")
    return " ".join(text.split())


def export_ready_network(model: ToeTwitchModel, labels: str = "plain") -> DiscreteBayesianNetwork:
    """A copy of ``model.network`` named ``model`` with a ``label`` on every node.

    ``labels`` is ``"plain"`` (BIF, XMLBIF), ``"quoted"`` (Hugin NET wants a string) or
    ``"none"``.
    """
    network = model.network.copy()
    network.name = NETWORK_NAME
    if labels != "none":
        for node in network.nodes():
            text = _label(model.vocabulary, node)
            network.nodes[node]["label"] = f'"{text}"' if labels == "quoted" else text
    return network


def _layout(network: DiscreteBayesianNetwork, vocabulary: Vocabulary) -> dict[str, tuple[int, int]]:
    """Deterministic positions for GeNIe: age, risk factors, causes, findings in rows."""
    risk_factors = {
        p for c in vocabulary.causes if c in network for p in network.predecessors(c)
    } - {AGE_FINDING}
    rows: dict[int, list[str]] = {0: [], 1: [], 2: [], 3: []}
    for node in network.nodes():
        row = (
            0
            if node == AGE_FINDING
            else 1
            if node in risk_factors
            else 2
            if node in vocabulary.causes
            else 3
        )
        rows[row].append(node)
    order = {v: i for i, v in enumerate([*vocabulary.causes, *vocabulary.findings])}
    positions = {}
    for row, nodes in rows.items():
        for col, node in enumerate(sorted(nodes, key=lambda v: order.get(v, len(order)))):
            positions[node] = (20 + 110 * col, 20 + 160 * row)
    return positions


def _bif(model: ToeTwitchModel) -> bytes:
    from pgmpy.readwrite import BIFWriter

    return str(BIFWriter(export_ready_network(model))).encode("utf-8")


def _xmlbif(model: ToeTwitchModel) -> bytes:
    from pgmpy.readwrite import XMLBIFWriter

    return str(XMLBIFWriter(export_ready_network(model))).encode("utf-8")


def _xdsl(model: ToeTwitchModel) -> bytes:
    from pgmpy.readwrite import XDSLWriter

    network = export_ready_network(model, labels="none")
    writer = XDSLWriter(network, network_id=NETWORK_NAME)
    positions = _layout(network, model.vocabulary)
    for node in writer.root.iter("node"):
        variable = node.get("id")
        node.find("name").text = _label(model.vocabulary, variable)
        x, y = positions[variable]
        node.find("position").text = f"{x} {y} {x + 96} {y + 48}"
    # XDSLWriter only writes to a path: let it, in a private folder, and keep the bytes.
    with tempfile.TemporaryDirectory(prefix="toe-twitch-xdsl-") as folder:
        staged = Path(folder) / "network.xdsl"
        writer.write(str(staged))
        return staged.read_bytes()


def _net(model: ToeTwitchModel) -> bytes:
    writer_class, _ = _pgmpy_classes()
    return str(writer_class(export_ready_network(model, labels="quoted"))).encode("utf-8")


def _plain_decimal(x: float) -> str:
    return np.format_float_positional(float(x), unique=True, trim="0")


def _uai(model: ToeTwitchModel) -> bytes:
    from pgmpy.readwrite import UAIWriter

    network = export_ready_network(model, labels="none")
    writer = UAIWriter(network)
    numbered = [name for name, _ in sorted(writer.domain.items(), key=lambda x: (x[1], x[0]))]
    index = {name: i for i, name in enumerate(numbered)}
    functions, tables = [], []
    for variable in numbered:
        cpd = network.get_cpds(variable)
        scope = [*reversed(cpd.variables[1:]), variable]  # pgmpy's scope: child last
        values = np.asarray(cpd.get_values(), dtype=float).reshape(cpd.cardinality)
        # cpd axes are (child, parent 1, ..., parent k); the file wants the scope's order
        # with the child's state changing fastest.
        axes = [*range(len(scope) - 1, 0, -1), 0]
        functions.append([str(index[v]) for v in scope])
        tables.append([_plain_decimal(x) for x in np.transpose(values, axes).ravel()])
    writer.functions, writer.tables = functions, tables
    return str(writer).encode("utf-8")


_RENDERERS = {"bif": _bif, "xmlbif": _xmlbif, "xdsl": _xdsl, "net": _net, "uai": _uai}


def network_bytes(model: ToeTwitchModel, format: str) -> bytes:
    """The model's network written in ``format``, as the bytes of the file."""
    get_format(format)
    with _quiet_pgmpy():
        return _RENDERERS[format](model)


def export_network(
    model: ToeTwitchModel,
    path: str | Path,
    format: str | None = None,
    *,
    overwrite: bool = False,
) -> Path:
    """Write the model's network to ``path`` in ``format`` (from the extension if None).

    The file is written atomically (:func:`toe_twitch.files.write_atomic`): a failure midway
    leaves any existing file untouched, and an existing file (or symbolic link, which is
    then replaced itself) is replaced only with ``overwrite=True`` (otherwise
    :class:`~toe_twitch.errors.OutputExistsError`). A directory, FIFO or device at ``path``, or
    a missing folder, is an error before any work (see :func:`toe_twitch.files.check_target`).
    The file's extension must be one of the format's, so that :func:`model.load_model`
    and other tools recognise it.

    Returns
    -------
    The path written.
    """
    path = Path(path)
    by_extension = format_for_path(path)
    if format is None:
        if by_extension is None:
            raise ToeTwitchError(
                f"{path}: cannot tell the format from the extension {path.suffix!r}; "
                f"give one of {', '.join(FORMATS)} (or use one of the extensions "
                f"{', '.join(e for f in FORMATS.values() for e in f.extensions)})"
            )
        chosen = by_extension
    else:
        chosen = get_format(format)
        if by_extension is not chosen:
            raise ToeTwitchError(
                f"{path}: a {chosen.title} file must end with "
                f"{' or '.join(chosen.extensions)} so that it is read back as {chosen.name}; "
                f"for example {path.with_suffix(chosen.extension).name}"
            )
    check_target(path, overwrite=overwrite)  # before the work; write_atomic checks again
    write_atomic(path, network_bytes(model, chosen.name), overwrite=overwrite)
    return path


# ---------------------------------------------------------------------------- reading
def _read_text(path: Path) -> str:
    """The text of a network file, read with :func:`toe_twitch.files.read_bounded` (a regular
    file of at most ``MAX_NETWORK_BYTES``); raises :class:`NetworkFileError` otherwise."""

    def fail(rule: str) -> NetworkFileError:
        return NetworkFileError(str(path), [Problem("", rule)])

    try:
        raw = read_bounded(path, MAX_NETWORK_BYTES)
    except FileReadError as exc:
        raise NetworkFileError(str(path), exc.problems) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise fail("file is not UTF-8 text") from None
    if not text.strip():
        raise fail("file is empty")
    return text


def read_network(path: str | Path) -> DiscreteBayesianNetwork:
    """Read a network file with pgmpy's reader for its extension (UAI: :func:`read_uai`).

    Raises :class:`~toe_twitch.errors.NetworkFileError` naming the file if it cannot be read.
    """
    path = Path(path)
    fmt = format_for_path(path)
    if fmt is None:
        extensions = ", ".join(e for f in FORMATS.values() for e in f.extensions)
        raise NetworkFileError(
            str(path), [Problem("", f"not a network file extension (known: {extensions})")]
        )
    text = _read_text(path)
    if fmt.name == "uai":
        return read_uai(text, str(path))
    from pgmpy.readwrite import BIFReader, XDSLReader, XMLBIFReader

    _, net_reader = _pgmpy_classes()
    readers = {"bif": BIFReader, "xmlbif": XMLBIFReader, "xdsl": XDSLReader, "net": net_reader}
    try:
        with _quiet_pgmpy():
            network = readers[fmt.name](string=text).get_model()
    except Exception as exc:  # pgmpy's parsers raise anything from KeyError to ParseException
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())
        if len(reason) > 300:
            reason = reason[:300] + " ..."
        raise NetworkFileError(
            str(path), [Problem("", f"cannot be read as {fmt.title} by pgmpy ({reason})")]
        ) from None
    if network.number_of_nodes() == 0:
        raise NetworkFileError(
            str(path), [Problem("", f"no variables found; is this really a {fmt.title} file?")]
        )
    return network


@cache
def reference_variables() -> tuple[tuple[str, ...], dict[str, tuple[str, ...]], dict[str, int]]:
    """Variables of the network built from the default priors, numbered as UAI files are.

    Returns ``(numbered names, parents of each, number of states of each)``.
    """
    from toe_twitch.network import build_structure
    from toe_twitch.priors import load_priors

    structure = build_structure(load_priors(None), load_vocabulary())
    cards = {v: len(structure.states(v)) for v in structure.variables}
    numbered = tuple(sorted(structure.variables, key=lambda v: (str(cards[v]), v)))
    return numbered, {v: structure.parents(v) for v in structure.variables}, cards


def read_uai(text: str, source: str = "<uai>") -> DiscreteBayesianNetwork:
    """Read a ``BAYES`` UAI file (tables with the last scope variable changing fastest).

    UAI files have no names: variable ``i`` is the ``i``-th variable of the toe-twitch
    network (default priors) in the order :func:`export_network` numbers them
    (:func:`reference_variables`). A file whose domains or parent sets differ from that
    network is refused, since its variables could not be named.
    """
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    tokens = text.split()
    position = 0

    def fail(rule: str) -> NetworkFileError:
        return NetworkFileError(source, [Problem(f"token {position + 1}", rule)])

    def take_int(what: str) -> int:
        nonlocal position
        if position >= len(tokens):
            raise fail(f"the file ends where {what} should be")
        token = tokens[position]
        if not token.isdigit():
            raise fail(f"{what} must be a whole number, got {token!r}")
        position += 1
        return int(token)

    if not tokens or tokens[0] != "BAYES":
        raise fail(
            f"a UAI Bayesian network starts with BAYES, got {tokens[0] if tokens else 'nothing'!r}"
        )
    position = 1
    n = take_int("the number of variables")
    cards = [take_int(f"the number of states of variable {i}") for i in range(n)]
    m = take_int("the number of functions")
    scopes = []
    for j in range(m):
        size = take_int(f"the scope size of function {j}")
        scope = [take_int(f"a variable of function {j}") for _ in range(size)]
        if not scope or any(v >= n for v in scope):
            raise fail(f"function {j} has an empty scope or a variable outside 0..{n - 1}")
        scopes.append(scope)
    tables = []
    for j, scope in enumerate(scopes):
        count = take_int(f"the table size of function {j}")
        expected = int(np.prod([cards[v] for v in scope]))
        if count != expected:
            raise fail(f"function {j} has {count} values; its scope needs {expected}")
        chunk = tokens[position : position + count]
        if len(chunk) < count:
            raise fail(f"the file ends inside the table of function {j}")
        try:
            values = np.array([float(x) for x in chunk])
        except ValueError:
            raise fail(f"the table of function {j} holds something that is not a number") from None
        position += count
        tables.append(values.reshape([cards[v] for v in scope]))
    if position != len(tokens):
        raise fail("unexpected text after the last table")

    numbered, parents, ref_cards = reference_variables()
    problems = []
    if n != len(numbered):
        problems.append(
            Problem(
                "",
                f"UAI files carry no variable names; this one has {n} variables and the "
                f"toe-twitch network has {len(numbered)}, so they cannot be named",
            )
        )
        raise NetworkFileError(source, problems)
    children = [scope[-1] for scope in scopes]
    for i, name in enumerate(numbered):
        if cards[i] != ref_cards[name]:
            problems.append(
                Problem(
                    f"variable {i}",
                    f"has {cards[i]} states; {name} (its name by position) has {ref_cards[name]}",
                )
            )
        count = children.count(i)
        if count != 1:
            problems.append(
                Problem(f"variable {i}", f"is the child of {count} functions, expected 1")
            )
    for j, scope in enumerate(scopes):
        child = numbered[scope[-1]]
        got = {numbered[v] for v in scope[:-1]}
        if got != set(parents[child]):
            problems.append(
                Problem(
                    f"function {j}",
                    f"gives {child} the parents {sorted(got)}; the toe-twitch network has "
                    f"{sorted(parents[child])}",
                )
            )
    if problems:
        raise NetworkFileError(source, problems)

    vocabulary = load_vocabulary()
    states = {v: _expected_states(vocabulary, v) for v in numbered}
    network = DiscreteBayesianNetwork()
    network.add_nodes_from(numbered)
    cpds = []
    for scope, table in zip(scopes, tables, strict=True):
        child = numbered[scope[-1]]
        parent_names = [numbered[v] for v in scope[:-1]]
        network.add_edges_from((p, child) for p in parent_names)
        values = np.moveaxis(table, -1, 0)  # (child, parents in scope order)
        cpds.append(
            TabularCPD(
                child,
                cards[scope[-1]],
                values.reshape(cards[scope[-1]], -1),
                evidence=parent_names or None,
                evidence_card=[cards[v] for v in scope[:-1]] or None,
                state_names={v: list(states[v]) for v in [child, *parent_names]},
            )
        )
    network.add_cpds(*cpds)
    return network


def _expected_states(vocabulary: Vocabulary, variable: str) -> tuple[str, ...]:
    if variable in vocabulary.causes:
        return CAUSE_STATES
    return vocabulary.findings[variable].states


def _column_name(variables: tuple[str, ...], states: Mapping[str, tuple[str, ...]], index) -> str:
    return ", ".join(f"{v}={states[v][i]}" for v, i in zip(variables, index, strict=True))


def _canonical(table: np.ndarray, variables: tuple[str, ...], order: Sequence[str],
               n_ages: int) -> np.ndarray:
    """A CPT with axes ``(child, *parents in file order)`` as ``(card, A, 2**n)``: age on
    its own axis (broadcast if it is not a parent), then the parents ``order`` as bits."""
    axes = {v: i for i, v in enumerate(variables)}
    has_age = AGE_FINDING in axes
    wanted = [0] + ([axes[AGE_FINDING]] if has_age else []) + [axes[v] for v in reversed(order)]
    t = np.transpose(table, wanted)
    card = t.shape[0]
    if not has_age:
        t = np.broadcast_to(t[:, None], (card, n_ages, *t.shape[1:]))
    return np.ascontiguousarray(t.reshape(card, n_ages, 2 ** len(order)))


def _noisy_or_factors(absent: np.ndarray) -> np.ndarray | None:
    """``(A, n + 1)`` noisy-OR factors if ``absent`` ``(A, 2**n)`` factorises, else None."""
    n = int(round(np.log2(absent.shape[-1])))
    base = absent[:, 0]
    if np.any(base <= 0):
        return None
    factors = np.empty((absent.shape[0], n + 1))
    for i in range(n):
        factors[:, i] = absent[:, 1 << i] / base
    factors[:, n] = base
    rebuilt = base[:, None] * np.ones_like(absent)
    for m in range(absent.shape[-1]):
        for i in range(n):
            if (m >> i) & 1:
                rebuilt[:, m] *= factors[:, i]
    if np.allclose(rebuilt, absent, rtol=1e-12, atol=0.0):
        return factors
    return None


def structure_from_network(network: DiscreteBayesianNetwork, source: str) -> tuple[Structure, Tables]:
    """Check a network against the vocabulary and the engine's shape; return its tables.

    Every variable must be a cause or finding of the vocabulary with exactly the
    vocabulary's states (in any order: tables are reordered to the vocabulary's order),
    and every CPT column must be a probability distribution. The cause-space engine
    needs the network's shape too: ``age_group`` (if present) is a root; a risk factor
    (a parent of a cause) has at most ``age_group`` as parent; a cause's parents are risk
    factors and ``age_group``; every other finding's parents are causes and
    ``age_group``. All problems are reported at once as a
    :class:`~toe_twitch.errors.NetworkFileError` naming ``source``.
    """
    vocabulary = load_vocabulary()
    known = [*vocabulary.causes, *vocabulary.findings]
    problems: list[Problem] = []
    for node in network.nodes():
        where = f"variable {node!r}"
        if node not in vocabulary.causes and node not in vocabulary.findings:
            close = difflib.get_close_matches(str(node), known, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(Problem(where, f"not a cause or finding of the vocabulary{hint}"))
            continue
        cpd = network.get_cpds(node)
        if cpd is None:
            problems.append(Problem(where, "has no probability table"))
            continue
        expected = _expected_states(vocabulary, node)
        got = [str(s) for s in cpd.state_names[node]]
        if sorted(got) != sorted(expected):
            problems.append(
                Problem(where, f"states {got} do not match the vocabulary's {list(expected)}")
            )
    if problems:
        raise NetworkFileError(source, problems)
    nodes = set(network.nodes())
    causes = tuple(c for c in vocabulary.causes if c in nodes)
    if not causes:
        raise NetworkFileError(source, [Problem("", "the network has no cause variable")])
    parents = {v: [str(p) for p in network.get_parents(v)] for v in nodes}
    risk_factors = tuple(
        f for f in vocabulary.findings
        if f in nodes and f != AGE_FINDING and any(f in parents[c] for c in causes)
    )
    findings = tuple(
        f for f in vocabulary.findings if f in nodes and f != AGE_FINDING and f not in risk_factors
    )
    implicit = {f: state for f, state in vocabulary.implicit_evidence.items() if f in nodes}
    property_of = {
        f: next(p for p in parents[f] if p in implicit)
        for f in findings
        if f in vocabulary.twitching_properties and any(p in implicit for p in parents[f])
    }
    for v in sorted(nodes, key=known.index):
        others = [p for p in parents[v] if p != AGE_FINDING and p != property_of.get(v)]
        where = f"variable {v!r}"
        if v == AGE_FINDING and parents[v]:
            problems.append(Problem(where, "age_group must have no parents"))
        elif v in risk_factors and others:
            problems.append(Problem(where, f"a risk factor (a parent of a cause) may only have "
                                           f"age_group as parent, not {others[0]!r}"))
        elif v in causes and any(p not in risk_factors for p in others):
            bad = next(p for p in others if p not in risk_factors)
            problems.append(Problem(where, f"a cause's parents must be risk factors and age_group, "
                                           f"not {bad!r}"))
        elif v in findings and any(p not in causes for p in others):
            bad = next(p for p in others if p not in causes)
            problems.append(Problem(where, f"has the parent {bad!r}; in the cause-space engine a "
                                           "finding's parents must be causes and age_group"))
    if problems:
        raise NetworkFileError(source, problems)

    states = {node: _expected_states(vocabulary, node) for node in nodes}
    age_states = states.get(AGE_FINDING, ())
    n_ages = max(1, len(age_states))
    tables_by_variable: dict[str, np.ndarray] = {}
    for node in sorted(nodes, key=known.index):
        cpd = network.get_cpds(node)
        variables = tuple(str(v) for v in cpd.variables)
        table = np.asarray(cpd.get_values(), dtype=float).reshape(cpd.cardinality)
        for axis, variable in enumerate(variables):
            file_states = [str(s) for s in cpd.state_names[variable]]
            table = np.take(table, [file_states.index(s) for s in states[variable]], axis=axis)
        where = f"variable {node!r}"
        if not np.all(np.isfinite(table)) or np.any(table < 0):
            problems.append(Problem(where, "has a probability that is negative or not a number"))
            continue
        sums = table.sum(axis=0)
        worst = np.unravel_index(int(np.argmax(np.abs(sums - 1.0))), sums.shape)
        if abs(sums[worst] - 1.0) > COLUMN_SUM_TOLERANCE:
            given = _column_name(variables[1:], states, worst) or "no parents"
            problems.append(
                Problem(
                    where,
                    f"probabilities given {given} sum to {sums[worst]:.9g}, not 1 "
                    f"(tolerance {COLUMN_SUM_TOLERANCE:g})",
                )
            )
            continue
        tables_by_variable[node] = (variables, table / sums)
    if problems:
        raise NetworkFileError(source, problems)

    for f, twitching in property_of.items():  # keep the slice where the twitching is present
        variables, table = tables_by_variable[f]
        axis = variables.index(twitching)
        index = states[twitching].index(implicit[twitching])
        tables_by_variable[f] = (
            variables[:axis] + variables[axis + 1 :],
            np.take(table, index, axis=axis),
        )
    cause_parents = {c: tuple(r for r in risk_factors if r in parents[c]) for c in causes}
    finding_parents = {f: tuple(c for c in causes if c in parents[f]) for f in findings}
    by_age = {f: AGE_FINDING in parents[f] for f in findings}
    structure = Structure(
        age_states=age_states,
        risk_factors=risk_factors,
        causes=causes,
        cause_parents=cause_parents,
        findings=findings,
        finding_parents=finding_parents,
        finding_by_age=by_age,
        property_of=property_of,
    )
    if AGE_FINDING in tables_by_variable:
        age = tables_by_variable[AGE_FINDING][1][None, :]
    else:
        age = np.ones((1, 1))
    risk = {}
    for r in risk_factors:
        variables, table = tables_by_variable[r]
        risk[r] = _canonical(table, variables, (), n_ages)[None, :, :, 0]
    cause_tables = {
        c: _canonical(tables_by_variable[c][1], tables_by_variable[c][0], cause_parents[c], n_ages)[None]
        for c in causes
    }
    finding_tables, noisy_or = {}, {}
    for f in findings:
        variables, table = tables_by_variable[f]
        canonical = _canonical(table, variables, finding_parents[f], n_ages)
        finding_tables[f] = canonical[None]
        factors = None if f in property_of else _noisy_or_factors(canonical[0])
        if factors is not None:
            noisy_or[f] = factors[None]
    return structure, Tables(age, risk, cause_tables, finding_tables, noisy_or)


# ---------------------------------------------------------------------------- precision
def posterior_error_bound(
    model: ToeTwitchModel, format: str, reader_relative_error: float = 0.0
) -> float:
    """Largest change in any P(cause | evidence) that writing and reading ``format`` allows.

    A format printing ``d`` decimals moves each CPT entry ``theta`` by at most
    ``h = 0.5e-d``; a reader that stores numbers less precisely than a double adds a
    relative error (``reader_relative_error``: :data:`SINGLE_PRECISION` for a reader that
    keeps single-precision floats). So each entry moves by a factor within ``1 +- rho``
    with ``rho = h / min(theta) + card * h + reader_relative_error`` per CPT (the
    ``card * h`` term covers a reader that renormalises a column). Every term of
    P(cause, evidence) is a product of one entry of each CPT, so P(cause, evidence) and
    P(no cause, evidence) each move by a factor within ``prod(1 +- rho)``; the posterior
    log-odds move by at most ``L = sum(log((1 + rho) / (1 - rho)))`` and the posterior by
    at most ``L / 4`` (the logistic function's slope is at most 1/4). The engine's own
    accuracy (:data:`ENGINE_TOLERANCE`) is added. A lossless format read in double
    precision gives exactly :data:`ENGINE_TOLERANCE`; ``inf`` if an entry is smaller
    than ``h`` (it could print as zero).
    """
    fmt = get_format(format)
    h = 0.0 if fmt.decimals is None else 0.5 * 10.0**-fmt.decimals
    if h == 0.0 and reader_relative_error == 0.0:
        return ENGINE_TOLERANCE
    log_odds = 0.0
    tables = model.tables
    for table in [tables.age, *tables.risk_factor.values(), *tables.cause.values(),
                  *tables.finding.values()]:
        smallest = float(np.min(table))
        if smallest <= h:
            return math.inf
        card = table.shape[1] if table.ndim > 2 else table.shape[-1]
        rho = h / smallest + card * h + reader_relative_error + 2.0**-52
        log_odds += math.log1p(rho) - math.log1p(-rho)
    return log_odds / 4 + ENGINE_TOLERANCE
