"""The bad-input catalogue, continued (issue 15): hostile method specs and bad arguments. Each case exits 2 with
a message naming the file or argument, the key and the rule, without a traceback, writes nothing, and fails
fast (a billion-laughs spec or one of 50,000 indicators used to run for minutes). Last, a map from every case
of issue 15's adversarial run ("Why") to the catalogue entry or test that holds it.
"""
from __future__ import annotations

import copy
import importlib
import sys

import pytest
import yaml

from qyb.paths import METHODS_DIR
from tests.data.test_bad_inputs import check_bad_input, edit_units, set_cell
from tests.helpers import copy_sample, run_cli

MONTHS = ["2022-03", "2022-12", "2023-01", "2023-02", "2023-03"]  # what v2 reads to score 2023-03
V2 = yaml.safe_load((METHODS_DIR / "v2.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def data(tmp_path):
    return copy_sample(tmp_path, MONTHS)


def spec(change=None, text=None, raw=None):
    """A ``--method`` argument: v2 changed by ``change``, or the YAML ``text``, or the bytes ``raw``."""
    def make(tmp_path):
        path = tmp_path / "bad_method.yaml"
        if raw is not None:
            path.write_bytes(raw)
        elif text is not None:
            path.write_text(text, encoding="utf-8")
        else:
            s = copy.deepcopy(V2)
            change(s)
            path.write_text(yaml.safe_dump(s, allow_unicode=True), encoding="utf-8")
        return path
    return make


def goalposts_best(value):
    def change(s):
        s["indicators"][4]["normalise"] = {"method": "goalposts", "worst": 0.8, "best": value}
    return change


V2_TEXT = (METHODS_DIR / "v2.yaml").read_text(encoding="utf-8")
LAUGHS = V2_TEXT + "\ndescription:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"  {chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))


def compact_indicators(n):
    """``n`` indicators in YAML flow style: a spec under the size limit but beyond the count limit."""
    lines = [f"  - {{code: i{k}, parent: public_order, measures: {{value: fires}}, transform: count}}" for k in range(n)]
    return V2_TEXT.split("\nindicators:")[0] + "\nindicators:\n" + "\n".join(lines) + "\n"


def measure_from_later(s):
    s["measures"] = [{"code": "drug_cases", "name": "涉毒案件", "kind": "count", "unit": "宗", "from": "2024-01"}]
    s["indicators"].append({"code": "drug", "name": "涉毒案件数", "parent": "public_order",
                            "measures": {"value": "drug_cases"}, "transform": "count", "direction": -1})


# (case id, how to break the data, extra `qyb score` arguments, fragments the message must contain)
CASES = [
    ("spec_billion_laughs", lambda d, t: None, ["--method", spec(text=LAUGHS)],
     ["bad_method.yaml", "YAML anchors and aliases (&a / *a) are not accepted", "line "]),
    ("spec_weight_inf", lambda d, t: None, ["--method", spec(lambda s: s["groups"][0].update(weight=float("inf")))],
     ["key 'groups[0].weight': inf is not a finite number"]),
    ("spec_indicator_weight_nan", lambda d, t: None,
     ["--method", spec(lambda s: s["indicators"][2].update(weight=float("nan")))],
     ["key 'indicators[2].weight': nan is not a finite number"]),
    ("spec_scale_bound_nan", lambda d, t: None,
     ["--method", spec(lambda s: s["index"].update(scale={"method": "affine", "low": float("nan"), "high": 100}))],
     ["key 'index.scale.low': nan is not a finite number"]),
    ("spec_scale_bounds_reversed", lambda d, t: None,
     ["--method", spec(lambda s: s["index"].update(scale={"method": "affine", "low": 100, "high": 60}))],
     ["key 'index.scale': low (100) must be below high (60)"]),
    ("spec_weight_denormal", lambda d, t: None, ["--method", spec(lambda s: s["groups"][0].update(weight=5e-324))],
     ["key 'groups[0].weight': 5e-324 is outside the range of weights (1e-06 to 1e+06)"]),
    ("spec_weight_huge_integer", lambda d, t: None, ["--method", spec(lambda s: s["groups"][1].update(weight=10 ** 20))],
     ["key 'groups[1].weight'", "not a finite number within"]),
    ("spec_goalpost_best_inf", lambda d, t: None, ["--method", spec(goalposts_best(float("inf")))],
     ["key 'indicators[4].normalise.best': inf is not a finite number"]),
    ("spec_goalposts_equal", lambda d, t: None, ["--method", spec(goalposts_best(0.8))],
     ["goalposts need numeric, different 'worst' and 'best'"]),
    ("spec_threshold_nan", lambda d, t: None,
     ["--method", spec(lambda s: s.update(stars={"rule": "thresholds", "thresholds": {5: float("nan"), 4: 75, 3: 65,
                                                                                      2: 55}}))],
     ["key 'stars.thresholds.5': nan is not a finite number"]),
    ("spec_thresholds_not_ordered", lambda d, t: None,
     ["--method", spec(lambda s: s.update(stars={"rule": "thresholds", "thresholds": {5: 60, 4: 75, 3: 65, 2: 55}}))],
     ["stars.thresholds", "descending"]),
    ("spec_zscore_sd_zero", lambda d, t: None,
     ["--method", spec(lambda s: s["indicators"][0].update(normalise={"method": "zscore", "sd": 0}))],
     ["key 'indicators[0].normalise.sd': 0: the standard deviation must be > 0"]),
    ("spec_50000_indicators", lambda d, t: None, ["--method", spec(text=compact_indicators(50_000))],
     ["bad_method.yaml", "larger than any YAML file qyb reads (at most 1,000,000)"]),
    ("spec_2500_indicators_compact", lambda d, t: None, ["--method", spec(text=compact_indicators(2500))],
     ["key 'indicators': 2,500 entries: more than any scheme qyb scores (at most 2,000)"]),
    ("spec_yaml_syntax_error", lambda d, t: None, ["--method", spec(text="name: x\nindicators: [a, b\ngroups: {\n")],
     ["bad_method.yaml", "not valid YAML (line 3, column 7)", "YAML 语法错误"]),
    ("spec_python_tag", lambda d, t: None,
     ["--method", spec(text=V2_TEXT + "\ndescription: !!python/object/apply:os.system ['echo hacked']\n")],
     ["not valid YAML", "only plain YAML values are accepted"]),
    ("spec_not_text", lambda d, t: None, ["--method", spec(raw=b"name: \xff\xfe\x00\x81\n")],
     ["not UTF-8 or GB18030 text"]),
    ("spec_name_path_traversal", lambda d, t: None,
     ["--method", spec(lambda s: s.update(name="x/../../../../../../../tmp/escaped"))],
     ["key 'name': 'x/../../../../../../../tmp/escaped' is not an identifier"]),
    ("spec_title_too_long", lambda d, t: None, ["--method", spec(lambda s: s.update(title="长" * 300))],
     ["key 'title': must be a text of at most 200 characters"]),
    ("spec_measure_collected_later", lambda d, t: None, ["--method", spec(measure_from_later)],
     ["涉毒案件数 (drug) cannot be computed", "its measure drug_cases (涉毒案件) is collected from 2024-01",
      "not in 2023-03"]),
    ("spec_unknown_measure_named_with_closest", lambda d, t: None,
     ["--method", spec(lambda s: s["indicators"][1]["measures"].update(value="fraud_alert"))],
     ["unknown measure 'fraud_alert' (did you mean fraud_alerts"]),
    ("catalogue_with_aliases", lambda d, t: (d / "catalogue.yaml").write_text(
        "measures:\n  - &m {code: fires, aliases: [火警]}\n  - *m\n", encoding="utf-8"), [],
     ["catalogue.yaml", "YAML anchors and aliases"]),
    ("unit_id_with_a_path", lambda d, t: edit_units(d, set_cell(2, "unit_id", "../../x")), [],
     ["units.csv", "第4行", "unit_id '../../x' is not a code"]),
    ("out_under_a_regular_file", lambda d, t: (t / "afile").write_text("x"),
     ["--out", lambda t: t / "afile" / "x.csv"], ["--out", "is a file, so", "cannot be made under it"]),
]


@pytest.mark.parametrize("case,breaker,extra,fragments", CASES, ids=[c[0] for c in CASES])
def test_hostile_specs_exit_2_fast_and_write_nothing(tmp_path, capsys, data, case, breaker, extra, fragments):
    err = check_bad_input(tmp_path, capsys, data, breaker, extra, fragments,
                          writes_out=case != "out_under_a_regular_file")
    assert "Warning" not in err


def test_output_names_from_data_stay_inside_their_folder(tmp_path):
    from qyb.paths import inside

    assert inside(tmp_path, "figures", "profile_XL01.png") == tmp_path / "figures" / "profile_XL01.png"
    for name in ("../x.png", "a/../../x.png", "/etc/passwd"):
        with pytest.raises(ValueError, match="leads outside"):
            inside(tmp_path / "figures", name)


def test_gb18030_spec_scores_as_its_utf8_twin(tmp_path, capsys, data):
    """A spec saved by a Chinese Windows editor (GB18030) is read, and scores byte for byte as in UTF-8."""
    text = V2_TEXT.replace("name: v2", "name: v2gb")
    outs = []
    for encoding in ("utf-8", "gb18030"):
        path = tmp_path / f"spec-{encoding}.yaml"
        path.write_bytes(text.encode(encoding))
        out = tmp_path / f"{encoding}.csv"
        code, _, err = run_cli(capsys, "score", "--month", "2023-03", "--data", data, "--method", path, "--out", out)
        assert code == 0, err
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


def test_office_settings_refuse_aliases(tmp_path):
    from qyb.errors import InputError
    from qyb.report.alerts import load_office

    path = tmp_path / "office.yaml"
    path.write_text("issuer: &i 小榄镇综治办\nalerts: []\nx: *i\n", encoding="utf-8")
    with pytest.raises(InputError, match="anchors and aliases"):
        load_office(path)


# ---------------------------------------------------------------- arguments
ARGUMENTS = [
    ("seed_negative", ["intervals", "--seed", "-1"], "argument --seed: -1 is outside the range of seed (0 to 4,294,967,295)"),
    ("seed_not_whole", ["intervals", "--seed", "1.5"], "'1.5' is not a whole number (seed"),
    ("seed_beyond_32_bits", ["review", "--seed", str(2 ** 32)], "is outside the range of seed"),
    ("draws_a_billion", ["intervals", "--draws", "1000000000"],
     "argument --draws: 1,000,000,000 is outside the range of draws (100 to 100,000)"),
    ("draws_too_few_for_intervals", ["intervals", "--draws", "99"], "99 is outside the range of draws (100 to 100,000)"),
    ("review_draws_1", ["review", "--draws", "1"], "1 is outside the range of draws (1,000 to 200,000)"),
    ("review_schemes_bogus", ["review", "--schemes", "bogus"], "unknown weighting scheme 'bogus'"),
    ("review_schemes_typo", ["review", "--schemes", "equal,entropi"], "did you mean entropy"),
    ("review_methods_unknown", ["review", "--methods", "v1,v9"], "method 'v9' not found"),
    ("month_not_a_month", ["intervals", "--month", "2023-13"], "'2023-13' is not a month"),
]


@pytest.mark.parametrize("case,argv,fragment", ARGUMENTS, ids=[a[0] for a in ARGUMENTS])
def test_bad_arguments_exit_2_before_any_work(tmp_path, capsys, case, argv, fragment):
    out = tmp_path / "out" / "x.csv"
    argv = [*argv, "--out", out]
    if "--month" not in argv:
        argv[1:1] = ["--month", "2023-03"]
    try:
        code, _, err = run_cli(capsys, *argv)
    except SystemExit as exc:  # argparse
        code, err = exc.code, capsys.readouterr().err
    assert code == 2, err
    assert fragment in err and "Traceback" not in err
    assert not out.exists() and not out.parent.exists()


@pytest.mark.parametrize("month", ["２０２３-０３", " 2023 - 03 "])
def test_month_argument_is_normalised(tmp_path, capsys, data, month):
    out = tmp_path / "s.csv"
    code, _, err = run_cli(capsys, "score", "--month", month, "--data", data, "--out", out)
    assert code == 0, err
    assert out.read_text(encoding="utf-8-sig").count("2023-03") >= 29


def test_numeric_warnings_become_one_note(capsys, monkeypatch):
    """numpy's RuntimeWarnings never reach the terminal as warnings: a command that met any prints one note."""
    import numpy as np

    from qyb import cli

    monkeypatch.delenv("QYB_DEBUG", raising=False)

    def noisy(args):
        np.log(np.zeros(3))
        np.array([0.0]) / 0.0
        return 0

    assert cli._quiet_numerics(noisy, None) == 0
    err = capsys.readouterr().err
    assert "RuntimeWarning" not in err and "numeric warning(s)" in err and "divide by zero" in err


# ---------------------------------------------------------------- issue 15's adversarial run, case by case
#: every case of issue 15's "Why" -> where it is held: (module, test or case id)
WHY = {
    # security
    "unit named <script>alert(1)</script> in the notebook pages": ("tests.report.test_hostile",
                                                                  "test_notebook_pages_show_hostile_names_as_text"),
    "unit named <img src=x onerror=alert(2)>": ("tests.report.test_hostile", "test_notebook_pages_show_hostile_names_as_text"),
    "method name/title holding markup": ("tests.report.test_hostile", "test_notebook_pages_show_hostile_names_as_text"),
    "no Content-Security-Policy": ("tests.report.test_hostile", "test_leader_summary_is_inert"),
    "=cmd|' /C calc'!A0 a live formula in ranking.xlsx": ("tests.report.test_hostile", "test_spreadsheets_hold_no_formula"),
    "=HYPERLINK(...) in ranking.xlsx": ("tests.report.test_hostile", "test_spreadsheets_hold_no_formula"),
    "CSV cells starting with = + - @": ("tests.report.test_hostile", "test_csv_fields_are_neutralised_and_read_back_exactly"),
    "path traversal through the spec's name": ("tests.data.test_bad_inputs_hostile", "spec_name_path_traversal"),
    "published folder mode 0700": ("tests.report.test_hostile", "test_files_stay_inside_the_report_and_folders_are_readable"),
    # publishing
    "killed between the two renames": ("tests.report.test_publish",
                                       "test_killed_at_any_point_the_month_is_complete_and_the_next_start_cleans_up"),
    "killed runs never cleaned up (builds, aside copies, kernel files)": (
        "tests.report.test_publish", "test_two_runs_of_a_month_and_a_run_killed_while_its_kernel_runs"),
    "two runs of the same month at once": ("tests.report.test_publish",
                                           "test_two_runs_of_a_month_and_a_run_killed_while_its_kernel_runs"),
    "read-only reports location": ("tests.report.test_publish", "test_read_only_reports_folder_exits_2_and_keeps_the_report"),
    "full reports location": ("tests.report.test_publish", "test_full_reports_folder_says_so_and_leaves_nothing"),
    "run 2023-02 v1 on a folder of 2023-01..2023-03": ("tests.report.test_hostile",
                                                      "test_a_month_that_scores_publishes_with_a_short_history"),
    # data accepted that should not be (issue 11's catalogue)
    "population inf": ("tests.data.test_bad_inputs_office", "population_inf"),
    "population 1e400": ("tests.data.test_bad_inputs_office", "population_1e400"),
    "hidden first sheet with stale figures": ("tests.data.test_office_files", None),
    "count 1e12": ("tests.data.test_bad_inputs_office", "count_1e12"),
    "count 1e19": ("tests.data.test_bad_inputs_office", "count_1e19"),
    "population 1e-300": ("tests.data.test_bad_inputs_office", "population_1e-300"),
    "population 0.3": ("tests.data.test_bad_inputs_office", "population_0.3"),
    "200 MB month file of 2.5 million rows": ("tests.data.test_bad_inputs_office", "far_more_rows_than_units"),
    # data rejected with the wrong words (issue 11)
    "a 200,000-character cell": ("tests.data.test_bad_inputs_office", "cell_of_200000_characters"),
    "XLSX formulas without cached values": ("tests.data.test_bad_inputs_office", "formulas_not_recalculated"),
    "Excel serial date 44986 in the month column": ("tests.data.test_office_files", None),
    "zero-width space after a header or unit name": ("tests.data.test_office_files", None),
    "full-width month digits": ("tests.data.test_bad_inputs_hostile", "test_month_argument_is_normalised"),
    # method specs
    "GB18030 spec": ("tests.data.test_bad_inputs_hostile", "test_gb18030_spec_scores_as_its_utf8_twin"),
    "billion laughs": ("tests.data.test_bad_inputs_hostile", "spec_billion_laughs"),
    "weight .inf": ("tests.data.test_bad_inputs_hostile", "spec_weight_inf"),
    "scale bound .nan": ("tests.data.test_bad_inputs_hostile", "spec_scale_bound_nan"),
    "weight 5e-324": ("tests.data.test_bad_inputs_hostile", "spec_weight_denormal"),
    "goalposts best .inf": ("tests.data.test_bad_inputs_hostile", "spec_goalpost_best_inf"),
    "star thresholds .nan": ("tests.data.test_bad_inputs_hostile", "spec_threshold_nan"),
    "indicator on a measure the data lack": ("tests.data.test_bad_inputs_office", "method_declares_measure_the_data_lack"),
    "spec of 50,000 indicators": ("tests.data.test_bad_inputs_hostile", "spec_50000_indicators"),
    "YAML syntax error without line or column": ("tests.data.test_bad_inputs_hostile", "spec_yaml_syntax_error"),
    "RuntimeWarnings leak to the terminal": ("tests.data.test_bad_inputs_hostile", "test_numeric_warnings_become_one_note"),
    # arguments
    "--out under a regular file": ("tests.data.test_bad_inputs_hostile", "out_under_a_regular_file"),
    "--out on a read-only location": ("tests.report.test_publish", "test_read_only_reports_folder_exits_2_and_keeps_the_report"),
    "--seed -1": ("tests.data.test_bad_inputs_hostile", "seed_negative"),
    "--draws 1000000000": ("tests.data.test_bad_inputs_hostile", "draws_a_billion"),
    "intervals on 20,000 units (MemoryError)": ("tests.movements.test_intervals", None),
    "review --draws 1 (Sobol index 1.81)": ("tests.data.test_bad_inputs_hostile", "review_draws_1"),
    "review --schemes bogus": ("tests.data.test_bad_inputs_hostile", "review_schemes_bogus"),
    "a disk that fills during a run": ("tests.report.test_publish", "test_a_disk_filling_under_a_notebook_is_said_not_hidden"),
}


def test_every_case_of_the_adversarial_run_is_in_the_catalogue():
    missing = []
    for case, (module, name) in WHY.items():
        mod = importlib.import_module(module) if module not in sys.modules else sys.modules[module]
        if name is None:
            continue
        ids = {c[0] for c in getattr(mod, "CASES", [])} | {a[0] for a in getattr(mod, "ARGUMENTS", [])}
        if name not in ids and not hasattr(mod, name):
            missing.append((case, module, name))
    assert not missing, missing
    assert len(WHY) >= 45
