"""CSV files as spreadsheets and pandas write them: delimiter, header, label column, string labels and a
row index (specs/README.md 2.2), read by ``dataset.CsvOptions``, recorded in certificates (section 4,
``dataset.csv``) and re-read the same way by the kernel and ``netcert check``.

Expected values are written here from the spec text (Fractions, hashlib); the messages are the exact ones
a user sees after ``netcert: error: <file>: ``.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from netcert import certificate, dataset, kernel, certify
from netcert.constructions import registry
from netcert.dataset import CsvOptions
from netcert.errors import DatasetError, InputError, UsageError
from netcert.formats import netjson

HEADER_NOTE = "header: auto took line 1 as a header because none of its fields is a number"

# Six iris-like rows (two rows per species), label first, semicolons: as a European spreadsheet saves them.
IRIS = (
    "species;sepal length;sepal width;petal length\n"
    "setosa;5.1;3.5;1.4\nversicolor;7;3.2;4.7\nvirginica;6.3;3.3;6\n"
    "setosa;4.9;3;1.4\nversicolor;6.4;3.2;4.5\nvirginica;5.8;2.7;5.1\n"
)
IRIS_OPTIONS = CsvOptions(delimiter=";", label_column=1, labels="map")
IRIS_RECORD = {
    "delimiter": ";",
    "header": True,
    "label_column": 1,
    "index_column": "keep",
    "labels": {"setosa": 0, "versicolor": 1, "virginica": 2},
}


def write(tmp_path: Path, text: str, name: str = "d.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def message(path: Path, options: CsvOptions | None = None) -> str:
    """The refusal of ``path`` read with ``options``, without the leading "<file>: "."""
    with pytest.raises(DatasetError) as info:
        dataset.load(path, csv=options)
    text = str(info.value)
    assert text.startswith(f"{path}: ") and "\n" not in text and info.value.exit_code == 3, text
    return text[len(f"{path}: ") :]


def values(ds: dataset.Dataset) -> tuple[list[tuple[Fraction, ...]], list[Fraction]]:
    pts = [tuple(Fraction(int(q.numerator), int(q.denominator)) for q in ds.point(i)) for i in range(ds.n)]
    return pts, [Fraction(int(q.numerator), int(q.denominator)) for q in ds.labels]


def spec_digest(rows: list[tuple], labels: list) -> str:
    """Section 2.5 from exact values, written apart from netcert's."""
    canon = lambda v: str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"  # noqa: E731
    text = f"netcert.dataset 1\n{len(rows)} {len(rows[0])}\n" + "".join(
        " ".join(canon(Fraction(v)) for v in (*row, y)) + "\n" for row, y in zip(rows, labels)
    )
    return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------- the default path is unchanged

DEFAULT_FILES = ["a,b,y\n1,2,3\n4,5,6\n", "1,2,3\n4,5,6\n", "x,y\r\n0.5,1\r\n-3/4,2\r\n", "\ufeffa,y\n1,2\n1,2\n"]


@pytest.mark.parametrize("text", DEFAULT_FILES)
def test_default_options_read_as_before(tmp_path, text):
    path = write(tmp_path, text)
    plain, explicit = dataset.load(path), dataset.load(path, csv=CsvOptions())
    assert plain == explicit and repr(plain) == repr(explicit)
    assert plain.csv is None  # read as the defaults read it: nothing recorded
    # the same as the reader's old call, and the digest of section 2.5 over the rows as in the file
    rows = [line.split(",") for line in text.lstrip("\ufeff").replace("\r", "").split("\n")[0:] if line]
    rows = [r for r in rows if all(_is_number(f) for f in r)]
    assert plain.digest == spec_digest([tuple(map(Fraction, r[:-1])) for r in rows], [Fraction(r[-1]) for r in rows])


def _is_number(text: str) -> bool:
    try:
        Fraction(text)
    except ValueError:
        return False
    return True


def test_explicit_options_that_read_as_the_defaults_record_nothing(tmp_path):
    path = write(tmp_path, "a,b,y\n1,2,3\n4,5,6\n")
    same = [
        CsvOptions(header="yes"),
        CsvOptions(label_column=3),
        CsvOptions(label_column="y"),
        CsvOptions(delimiter="auto"),
        CsvOptions(index_column="keep"),
    ]
    for options in same:
        ds = dataset.load(path, csv=options)
        assert ds == dataset.load(path) and ds.csv is None, options


def test_a_certificate_of_a_default_read_has_no_csv_key(tmp_path):
    data = write(tmp_path, "a,b,y\n0,0,1\n1,0,2\n0,1,3\n")
    cert = _certify(tmp_path, data, None)
    assert "csv" not in cert["dataset"] and cert["verdict"] == "certified"


# ---------------------------------------------------------------- string labels


def test_string_labels_say_to_pass_labels_map(tmp_path):
    path = write(tmp_path, "sepal length,sepal width,petal length,petal width,species\n5.1,3.5,1.4,0.2,setosa\n")
    assert message(path) == "line 2, column 5 (the label): not a number: 'setosa' (string labels: pass --labels map)"


def test_labels_map_is_the_sorted_distinct_strings(tmp_path):
    path = write(tmp_path, "a,species\n1,virginica\n2, setosa\n3,versicolor\n4,setosa\n")
    ds = dataset.load(path, csv=CsvOptions(labels="map"))
    assert values(ds) == ([(1,), (2,), (3,), (4,)], [2, 0, 1, 0])
    assert ds.label_kind == "integer"
    assert ds.csv == {
        "delimiter": ",",
        "header": True,
        "label_column": 2,
        "index_column": "keep",
        "labels": {"setosa": 0, "versicolor": 1, "virginica": 2},
    }
    assert ds.digest == spec_digest([(1,), (2,), (3,), (4,)], [2, 0, 1, 0])
    assert (
        "labels: 3 strings mapped in sorted order: 'setosa' -> 0, 'versicolor' -> 1, 'virginica' -> 2" in ds.csv_notes
    )


def test_labels_map_refuses_an_empty_label(tmp_path):
    path = write(tmp_path, "a,y\n1,x\n2,\n")
    assert message(path, CsvOptions(labels="map")) == "line 3, column 2 (the label): empty label"


def test_identical_points_with_string_labels_show_the_strings(tmp_path):
    path = write(tmp_path, "a,y\n1,cat\n1,dog\n")
    assert message(path, CsvOptions(labels="map")) == (
        "identical points with different labels, no function can interpolate them: rows 0 and 1 (lines 2 and 3, "
        "labels 'cat' and 'dog'); the label is column 2, the last (--label-column chooses another)"
    )


# ---------------------------------------------------------------- the label column


def test_a_label_in_column_1_is_named_in_the_identical_points_refusal(tmp_path):
    """Column 1 holds the labels; read by default, the last coordinate becomes the label and two rows that
    differ only there look like one point with two labels: the refusal names the column and the likely one."""
    path = write(tmp_path, "label,a,b\n0,1.5,2.5\n0,1.5,3.5\n1,2,2.5\n")
    assert message(path) == (
        "identical points with different labels, no function can interpolate them: rows 0 and 1 (lines 2 and 3, "
        "labels 5/2 and 7/2); the label is column 3, the last (--label-column chooses another); column 1 holds "
        "integers only: if it holds the labels, pass --label-column 1"
    )
    ds = dataset.load(path, csv=CsvOptions(label_column=1))
    assert values(ds) == (
        [(Fraction(3, 2), Fraction(5, 2)), (Fraction(3, 2), Fraction(7, 2)), (2, Fraction(5, 2))],
        [0, 0, 1],
    )
    assert ds.csv == {"delimiter": ",", "header": True, "label_column": 1, "index_column": "keep", "labels": None}


def test_a_string_in_column_1_suggests_it_is_the_label(tmp_path):
    path = write(tmp_path, "species,a,b\nsetosa,1,2\n")
    assert message(path) == (
        "line 2, column 1: not a number: 'setosa' (if column 1 holds the labels: pass "
        "--label-column 1, and --labels map for strings)"
    )


@pytest.mark.parametrize("column", [2, -2, "b"])
def test_label_column_by_index_from_either_end_or_by_name(tmp_path, column):
    path = write(tmp_path, "a,b,c\n1,10,100\n2,20,200\n")
    ds = dataset.load(path, csv=CsvOptions(label_column=column))
    assert values(ds) == ([(1, 100), (2, 200)], [10, 20])
    assert ds.csv["label_column"] == 2


@pytest.mark.parametrize(
    "column,expected",
    [
        (4, "label column 4: the lines have 3 fields (columns count from 1, negative from the end)"),
        (-4, "label column -4: the lines have 3 fields (columns count from 1, negative from the end)"),
        ("z", "label column 'z': no header fields have this name (the header is 'a', 'b', 'c')"),
    ],
)
def test_label_column_outside_the_file(tmp_path, column, expected):
    assert message(write(tmp_path, "a,b,c\n1,2,3\n"), CsvOptions(label_column=column)) == expected


def test_label_column_by_name_needs_a_header(tmp_path):
    assert message(write(tmp_path, "1,2,3\n"), CsvOptions(label_column="c")) == (
        "label column 'c': the file has no header line to find it in (pass --header yes, or the column's number)"
    )
    assert message(write(tmp_path, "a,a,c\n1,2,3\n", "two.csv"), CsvOptions(label_column="a")) == (
        "label column 'a': 2 header fields have this name (the header is 'a', 'a', 'c')"
    )


# ---------------------------------------------------------------- delimiter


def test_semicolons_under_the_comma_default_say_what_was_decided_and_what_to_do(tmp_path):
    path = write(tmp_path, "a;b;y\n1;2;3\n4;5;6\n")
    assert message(path) == (
        "line 2: need at least one coordinate and a label, found 1 field (fields are separated by commas; this "
        f"line has ';': pass --delimiter ';' or --delimiter auto) ({HEADER_NOTE})"
    )


@pytest.mark.parametrize("sep", [";", "\t", "|", ","])
def test_delimiter_auto_and_explicit(tmp_path, sep):
    text = sep.join(["a", "b", "y"]) + "\n" + sep.join(["1.5", "-2", "3"]) + "\n" + sep.join(["4", "5", "6"]) + "\n"
    path = write(tmp_path, text)
    auto = dataset.load(path, csv=CsvOptions(delimiter="auto"))
    explicit = dataset.load(path, csv=CsvOptions(delimiter=sep))
    assert auto == explicit and values(auto) == ([(Fraction(3, 2), -2), (4, 5)], [3, 6])
    assert (auto.csv is None) == (sep == ",") and (auto.csv is None or auto.csv["delimiter"] == sep)
    shown = {";": "';'", "\t": "tab", "|": "'|'", ",": "','"}[sep]
    assert f"delimiter: auto chose {shown} (it splits each of the first 3 lines into 3 fields)" in auto.csv_notes


def test_delimiter_auto_prefers_a_comma_on_a_tie_and_refuses_when_none_fits(tmp_path):
    tie = write(tmp_path, "1,2;3\n4,5;6\n")  # both split every line into 2 fields: the comma wins
    assert (
        message(tie, CsvOptions(delimiter="auto")) == "line 1, column 2 (the label): not a number: '2;3' "
        "(string labels: pass --labels map)"
    )
    semicolons = write(tmp_path, "a;b,c;y\n1;2;3\n", "semicolons.csv")  # a comma in a name: only ';' fits
    ds = dataset.load(semicolons, csv=CsvOptions(delimiter="auto"))
    assert values(ds) == ([(1, 2)], [3]) and ds.csv["delimiter"] == ";"
    ragged = write(tmp_path, "1;2;3\n4;5\n", "ragged.csv")
    assert message(ragged, CsvOptions(delimiter="auto")) == (
        "delimiter: auto found none of ',', ';', tab, '|' splitting each of the first 2 lines into one same number "
        "(at least 2) of fields: pass --delimiter"
    )


# ---------------------------------------------------------------- header


def test_header_yes_and_no(tmp_path):
    path = write(tmp_path, "1,2,3\n4,5,6\n")
    ds = dataset.load(path, csv=CsvOptions(header="yes"))
    assert values(ds) == ([(4, 5)], [6]) and ds.csv["header"] is True
    assert (
        message(write(tmp_path, "a,b\n1,2\n", "h.csv"), CsvOptions(header="no"))
        == "line 1, column 1: not a number: 'a' (if column 1 holds the labels: pass --label-column 1, and --labels "
        "map for strings)"
    )


def test_a_header_alone_says_auto_took_it(tmp_path):
    assert message(write(tmp_path, "a,b,y\n")) == f"no points (n = 0) ({HEADER_NOTE})"


# ---------------------------------------------------------------- a pandas row index

PANDAS = ",a,b,y\n0,1,2,3\n1,4,5,6\n2,7,8,9\n"  # DataFrame.to_csv() with its default index=True


@pytest.mark.parametrize("name", ["", "Unnamed: 0"])
def test_a_row_index_is_refused_with_the_way_out(tmp_path, name):
    path = write(tmp_path, PANDAS.replace(",a", f"{name},a", 1))
    assert message(path) == (
        f"column 1 looks like a row index (header field {name!r} over the values 0 to 2 in order, as pandas' "
        "to_csv writes it): pass --index-column drop, or re-save the file with to_csv(..., index=False) "
        "(--index-column keep reads it as a coordinate)"
    )


def test_a_row_index_dropped_or_kept(tmp_path):
    path = write(tmp_path, PANDAS)
    dropped = dataset.load(path, csv=CsvOptions(index_column="drop"))
    assert values(dropped) == ([(1, 2), (4, 5), (7, 8)], [3, 6, 9])
    assert dropped.csv == {"delimiter": ",", "header": True, "label_column": 4, "index_column": "drop", "labels": None}
    assert dropped.digest == dataset.load(write(tmp_path, "a,b,y\n1,2,3\n4,5,6\n7,8,9\n", "clean.csv")).digest
    kept = dataset.load(path, csv=CsvOptions(index_column="keep"))
    assert values(kept) == ([(0, 1, 2), (1, 4, 5), (2, 7, 8)], [3, 6, 9]) and kept.csv is None


@pytest.mark.parametrize(
    "text",
    [
        "a,b,y\n0,1,2\n1,3,4\n",  # a named first column
        ",b,y\n0,1,2\n2,3,4\n",  # not 0, 1, 2, ... in order
        "0,1,2\n1,3,4\n",  # no header
    ],
)
def test_what_is_not_a_row_index(tmp_path, text):
    assert dataset.load(write(tmp_path, text)).d == 2


def test_the_label_cannot_be_the_dropped_column(tmp_path):
    options = CsvOptions(index_column="drop", label_column=1)
    assert (
        message(write(tmp_path, PANDAS), options) == "label column 1: it is the column that --index-column drop drops"
    )
    assert message(write(tmp_path, ",y\n0,1\n", "narrow.csv"), CsvOptions(index_column="drop")) == (
        "line 2: need at least one coordinate and a label besides the dropped column 1, found 2 fields "
        f"({HEADER_NOTE}; index_column: dropped column 1)"
    )


# ---------------------------------------------------------------- the options themselves


@pytest.mark.parametrize(
    "kwargs,expected",
    [
        ({"delimiter": ":"}, "--delimiter: ':' is not one of auto, ',', ';', tab, '|'"),
        ({"header": "maybe"}, "--header: 'maybe' is not one of auto, yes, no"),
        ({"labels": "strings"}, "--labels: 'strings' is not one of numbers, map"),
        ({"index_column": "skip"}, "--index-column: 'skip' is not one of refuse, drop, keep"),
        (
            {"label_column": 0},
            "--label-column: 0 is not a column (count from 1, negative from the end, or name a header field)",
        ),
        (
            {"label_column": True},
            "--label-column: True is not a column (count from 1, negative from the end, or name a header field)",
        ),
    ],
)
def test_invalid_options_are_usage_errors(kwargs, expected):
    with pytest.raises(UsageError) as info:
        CsvOptions(**kwargs)
    assert str(info.value) == expected and info.value.exit_code == 2


def test_parse_label_column_and_records_round_trip():
    assert CsvOptions.parse_label_column("3") == 3 and CsvOptions.parse_label_column(" -1 ") == -1
    assert CsvOptions.parse_label_column("species") == "species"
    assert CsvOptions.from_record(None) == CsvOptions()
    assert CsvOptions.from_record(IRIS_RECORD) == CsvOptions(
        label_column=1, header="yes", delimiter=";", labels="map", index_column="keep"
    )


def test_csv_options_on_an_npz_file_are_a_usage_error(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=np.array([[0.0], [1.0]]), y=np.array([0, 1]))
    with pytest.raises(UsageError) as info:
        dataset.load(path, csv=CsvOptions(labels="map"))
    assert str(info.value) == f"{path}: the CSV options (--labels map) apply to .csv files only"
    assert info.value.exit_code == 2 and isinstance(info.value, InputError)
    assert dataset.load(path, csv=CsvOptions()).n == 2


# ---------------------------------------------------------------- certificates made with options


def _certify(tmp_path: Path, data: Path, options: CsvOptions | None) -> dict:
    ds = dataset.load(data, csv=options)
    net, cert_path = tmp_path / "net.json", tmp_path / "net.cert.json"
    netjson.write(registry.get("zhang2017").build(ds), net)
    cert = certify.verify(net, data, cert_path, data=ds, jobs=1, csv=options)
    cert_path.write_bytes(certificate.to_bytes(cert))
    return cert


@pytest.mark.slow
def test_the_iris_file_read_with_options_certifies_and_checks(tmp_path):
    data = write(tmp_path, IRIS, "iris.csv")
    ds = dataset.load(data, csv=IRIS_OPTIONS)
    assert ds.csv == IRIS_RECORD and ds.n == 6 and ds.d == 3
    assert values(ds)[1] == [0, 1, 2, 0, 1, 2]
    # the digest is that of the same exact values in a plain comma file with numeric labels
    plain = "a,b,c,y\n5.1,3.5,1.4,0\n7,3.2,4.7,1\n6.3,3.3,6,2\n4.9,3,1.4,0\n6.4,3.2,4.5,1\n5.8,2.7,5.1,2\n"
    assert ds.digest == dataset.load(write(tmp_path, plain, "plain.csv")).digest

    cert = _certify(tmp_path, data, IRIS_OPTIONS)
    assert cert["verdict"] == "certified" and cert["dataset"]["csv"] == IRIS_RECORD
    assert cert["checker"]["failures"] == [] and cert["checker"]["dataset_agrees"] is True
    cert_path = tmp_path / "net.cert.json"
    assert certify.recheck(cert_path, jobs=1) == []
    assert kernel.check_certificate(cert_path).ok
    r = subprocess.run(
        [sys.executable, "-m", "netcert", "check", str(cert_path)], capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0 and r.stdout.startswith("OK"), r.stdout + r.stderr


def _tampered(tmp_path: Path, change) -> Path:
    cert = json.loads((tmp_path / "net.cert.json").read_text())
    change(cert["dataset"])
    path = tmp_path / "tampered.cert.json"
    path.write_text(json.dumps(cert))
    return path


@pytest.mark.parametrize(
    "change,where",
    [
        (lambda d: d["csv"]["labels"].update(setosa=1, versicolor=0), "dataset"),  # a map other than the sorted one
        (lambda d: d.pop("csv"), "dataset"),  # read by the defaults: commas, so one field a line
        (lambda d: d["csv"].update(label_column=2), "dataset"),  # another column as the label
    ],
)
@pytest.mark.slow
def test_a_tampered_record_fails_the_check(tmp_path, change, where):
    _certify(tmp_path, write(tmp_path, IRIS, "iris.csv"), IRIS_OPTIONS)
    path = _tampered(tmp_path, change)
    v = kernel.check_certificate(path)
    assert not v.ok and any(f.where.startswith(where) for f in v.failures), v.failures
    r = subprocess.run(
        [sys.executable, "-m", "netcert", "check", str(path)], capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 1, r.stdout + r.stderr


def test_a_record_on_an_npz_dataset_is_refused_by_the_kernel_and_the_recheck(tmp_path):
    data = tmp_path / "d.npz"
    np.savez(data, X=np.array([[0], [1], [3]]), y=np.array([1, 2, 3]))
    _certify(tmp_path, data, None)
    path = _tampered(tmp_path, lambda d: d.update(csv=dict(IRIS_RECORD, labels=None)))
    v = kernel.check_certificate(path)
    assert not v.ok and v.failures[0].where == "dataset file", v.failures
    diffs = certify.recheck(path, jobs=1)
    assert diffs == [
        f"files no longer verify: {data}: the CSV options (--label-column 1, --header yes, "
        "--delimiter ';', --index-column keep) apply to .csv files only"
    ]
