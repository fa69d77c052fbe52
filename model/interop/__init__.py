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
  this network), and scans all of it, tables included, for the node names;
  :class:`LinearNETReader` reads names and states in one pass over the node
  declarations alone (a declaration with braces in a label: over the whole file).
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

======  =======  ========================================================
format  size     read back
======  =======  ========================================================
xmlbif  3.8 MB   1.9 s (2.2 s)
xdsl    5.9 MB   2.0 s (6.8 s)
uai     3.8 MB   2.1 s (3.7 s)
bif     23 MB    37 s (88 s)
net     4.7 MB   19 s (idle; 46 s before the node scan left out the tables)
======  =======  ========================================================

BIF is large because it writes one line per parent combination, naming every parent's
state: the four findings about the twitching have the age, the twitching and all twelve
causes as parents (32,768 lines, about 5 MB each). pgmpy's BIF and NET parsers take most
of the reading time (reading every table entry).
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

from pathlib import Path
from typing import TYPE_CHECKING

from toe_twitch.errors import FileReadError, NetworkFileError, Problem, ToeTwitchError
from toe_twitch.files import check_target, read_bounded, write_atomic
from toe_twitch.interop import bif, net, uai, xdsl, xmlbif
from toe_twitch.interop.formats import (
    COLUMN_SUM_TOLERANCE,
    ENGINE_TOLERANCE,
    FORMATS,
    MAX_NETWORK_BYTES,
    NETWORK_NAME,
    SINGLE_PRECISION,
    NetworkFormat,
    export_ready_network,
    format_for_path,
    get_format,
    quiet_pgmpy,
)
from toe_twitch.interop.precision import posterior_error_bound
from toe_twitch.interop.structure import structure_from_network
from toe_twitch.interop.uai import read_uai, reference_variables

if TYPE_CHECKING:
    from pgmpy.models import DiscreteBayesianNetwork

    from toe_twitch.core import ToeTwitchModel

#: One module per format, each with ``write(model) -> bytes`` and ``read(text, source)``.
MODULES = {"bif": bif, "xmlbif": xmlbif, "xdsl": xdsl, "net": net, "uai": uai}

__all__ = [
    "COLUMN_SUM_TOLERANCE",
    "ENGINE_TOLERANCE",
    "FORMATS",
    "MAX_NETWORK_BYTES",
    "NETWORK_NAME",
    "SINGLE_PRECISION",
    "NetworkFormat",
    "export_network",
    "export_ready_network",
    "format_for_path",
    "get_format",
    "network_bytes",
    "posterior_error_bound",
    "read_network",
    "read_uai",
    "reference_variables",
    "structure_from_network",
]


def network_bytes(model: ToeTwitchModel, format: str) -> bytes:
    """The model's network written in ``format``, as the bytes of the file."""
    get_format(format)
    with quiet_pgmpy():
        return MODULES[format].write(model)


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
    network = MODULES[fmt.name].read(_read_text(path), str(path))
    if network.number_of_nodes() == 0:
        raise NetworkFileError(
            str(path), [Problem("", f"no variables found; is this really a {fmt.title} file?")]
        )
    return network
