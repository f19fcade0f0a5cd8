"""`ftsim check`: the same intake offline, over files, with exit codes CI can use."""
import io
import json
from pathlib import Path

from simulator.cli import build_parser

from tests.conftest import casino_event

SPEC_EXAMPLES = Path(__file__).parent / "data/spec_examples.jsonl"


def check(*argv):
    args = build_parser().parse_args(["check", *map(str, argv)])
    out = io.StringIO()
    code = args.func(args, out=out)
    return code, out.getvalue().splitlines()


def test_the_spec_examples_have_exactly_their_known_problems():
    code, lines = check(SPEC_EXAMPLES)
    assert code == 1
    assert [line.split(": ", 1)[0] + " " + " ".join(line.split(": ", 1)[1].split()[:3]) for line in lines[:-1]] == [
        f"{SPEC_EXAMPLES}:1 error schema.format /timestamp:",
        f"{SPEC_EXAMPLES}:1 error schema.type /vendor_id:",
        f"{SPEC_EXAMPLES}:2 error schema.format /timestamp:",
    ]
    assert lines[-1] == "2 messages: 0 valid, 2 invalid; 3 errors, 0 warnings"


def test_the_lenient_profile_accepts_spec_000s_integer_vendor_id():
    code, lines = check(SPEC_EXAMPLES, "--profile", "lenient")
    assert code == 1 and [line.split()[2] for line in lines[:-1]] == ["schema.format", "schema.format"]


def test_a_clean_file_exits_0(tmp_path):
    f = tmp_path / "ok.jsonl"
    f.write_text("\n".join(json.dumps(casino_event(timestamp="2020-01-01T00:00:00Z")) for _ in range(3)) + "\n\n")
    code, lines = check(f)
    assert code == 0 and lines == ["3 messages: 3 valid, 0 invalid; 0 errors, 0 warnings"]


def test_warnings_alone_exit_0_but_are_printed(tmp_path):
    f = tmp_path / "warn.json"
    f.write_text(json.dumps(casino_event(wager_ammount=1)))
    code, lines = check(f)
    assert code == 0 and "payload.unknown_field" in lines[0] and f"{f}:1" in lines[0]


def test_a_json_array_file_names_each_element(tmp_path):
    f = tmp_path / "batch.json"
    f.write_text(json.dumps([casino_event(), casino_event(amount=3)]))
    code, lines = check(f)
    assert code == 1 and lines[0].startswith(f"{f}:[1]: error amount.sum /amount:")


def test_lines_that_are_not_json_are_reported_with_their_line_number(tmp_path):
    f = tmp_path / "mixed.jsonl"
    f.write_text(json.dumps(casino_event()) + "\n{oops\n")
    code, lines = check(f)
    assert code == 1 and lines[0].startswith(f"{f}:2: error json.parse /:")


def test_history_across_files_counts(tmp_path):
    event = casino_event()
    (tmp_path / "a.jsonl").write_text(json.dumps(event))
    (tmp_path / "b.jsonl").write_text(json.dumps({**event, "amount": 21, "wager_amount": 21}))
    code, lines = check(tmp_path / "a.jsonl", tmp_path / "b.jsonl")
    assert code == 1 and "activity.duplicate" in lines[0]


def test_a_missing_file_is_a_usage_error(tmp_path):
    from simulator.cli import main
    assert main(["check", str(tmp_path / "nope.jsonl")]) == 2


def test_a_type_no_event_has_is_a_usage_error_with_the_marker_meant(tmp_path, capsys):
    """--type payment judged every message transport.type and exited 1, as if the data were wrong."""
    from simulator.cli import main
    (tmp_path / "one.json").write_text(json.dumps(casino_event()))
    assert main(["check", "--type", "payment", str(tmp_path / "one.json")]) == 2
    assert "--type 'payment': no event type has that marker; did you mean 'PAYMENT'?" in capsys.readouterr().err
    assert main(["check", "--type", "NOPE", str(tmp_path / "one.json")]) == 2
    assert "one of BONUS, CART, CASINO" in capsys.readouterr().err


def test_a_file_with_no_message_is_a_usage_error_not_a_pass(tmp_path, capsys):
    from simulator.cli import main
    (tmp_path / "empty.jsonl").write_text("\n\n")
    assert main(["check", str(tmp_path / "empty.jsonl")]) == 2
    assert "no message to check" in capsys.readouterr().err


def test_the_command_line_entry_point_runs(tmp_path):
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-m", "simulator", "check", str(SPEC_EXAMPLES)], capture_output=True,
                          text=True)
    assert proc.returncode == 1 and "the hour needs two digits" in proc.stdout
