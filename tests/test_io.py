import pytest

from kosparse.errors import InputError
from kosparse.io import atomic_path, dumps, read_jsonl, write_json, write_jsonl


def test_failed_write_leaves_previous_output_and_no_temp_files(tmp_path):
    target = tmp_path / "out.json"
    write_json(target, {"a": 1})
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("interrupted")
    assert target.read_text(encoding="utf-8") == dumps({"a": 1})
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_failed_directory_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "stage", is_dir=True) as tmp:
        write_jsonl(tmp / "a.jsonl", [{"x": 1}])
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_json_output_is_stable_and_keeps_hangul(tmp_path):
    assert dumps({"b": "검색", "a": 1}) == '{\n  "a": 1,\n  "b": "검색"\n}\n'
    write_jsonl(tmp_path / "x.jsonl", [{"z": 1, "y": "모델"}])
    assert (tmp_path / "x.jsonl").read_text(encoding="utf-8") == '{"y": "모델", "z": 1}\n'


def test_read_jsonl_names_the_bad_line(tmp_path):
    (tmp_path / "p.jsonl").write_text('{"a": 1}\n{"a": \n', encoding="utf-8")
    with pytest.raises(InputError, match=r"p\.jsonl: line 2: malformed JSON"):
        read_jsonl(tmp_path / "p.jsonl")
    (tmp_path / "e.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(InputError, match=r"e\.jsonl: file is empty"):
        read_jsonl(tmp_path / "e.jsonl")
