"""Specs at their edges (issue 10): hostile YAML, wrong types, encodings, duplicate keys, chaining,
dtypes, spectrogram inputs and `nnaudio validate` listing every error."""

from __future__ import annotations

import importlib.util
import time
import warnings

import pytest
import torch

from nnaudio_core import Pipeline, SpecError, available_transforms, build_transform, get_transform
from nnaudio_core.app.cli import main
from nnaudio_core.errors import ParameterError, short_repr
from nnaudio_core.spec import MAX_DEPTH, MAX_SPEC_BYTES, MAX_VALUES, spec_errors


def error(spec, **kwargs) -> SpecError:
    with pytest.raises(SpecError) as info:
        build_transform(spec, device="cpu", **kwargs)
    return info.value


def laughs(levels: int) -> str:
    """A billion-laughs spec: ``10 ** levels`` leaves in about 40 bytes per level, used as a window."""
    def nested(i: int) -> str:
        if i == 0:
            return "&l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"
        return f"&l{i} [{nested(i - 1)}, " + ", ".join([f"*l{i - 1}"] * 9) + "]"

    return "pipeline:\n  - stft: {window: " + nested(levels - 1) + "}\n"


# -- hostile YAML -----------------------------------------------------------------------------------
def test_billion_laughs_is_refused_quickly(tmp_path):
    path = tmp_path / "laughs.yaml"
    path.write_text(laughs(9))  # 10**9 leaves
    assert path.stat().st_size < 600
    started = time.perf_counter()
    message = str(error(path))
    errors = spec_errors(path)
    assert time.perf_counter() - started < 2
    assert f"expands to more than {MAX_VALUES} values" in message and len(message) < 300
    assert [str(e) for e in errors] == [message]


def test_an_expansion_under_the_cap_is_quoted_in_at_most_a_few_hundred_characters(tmp_path):
    path = tmp_path / "thousand.yaml"
    path.write_text(laughs(3))  # 1000 leaves: allowed, then refused as a window
    message = str(error(path))
    assert message.startswith("pipeline[0].stft.window:") and len(message) < 1500
    (problem,) = spec_errors(path)
    assert str(problem) == message


def test_values_in_parameter_errors_are_clipped():
    value = ["x" * 50] * 10_000
    assert len(str(ParameterError("window", value, "expected a window"))) < 300
    assert len(short_repr("y" * 10**6)) == 200 and short_repr([1, 2]) == "[1, 2]"
    recursive: list = []
    recursive.append(recursive)
    assert len(short_repr(recursive)) < 50


def test_a_recursive_alias_or_dict_is_refused(tmp_path):
    path = tmp_path / "recursive.yaml"
    path.write_text("pipeline:\n  - stft: {window: &w [hann, *w]}\n")
    assert "contains itself" in str(error(path))
    spec: dict = {"pipeline": [{"stft": {}}]}
    spec["pipeline"][0]["stft"]["window"] = spec
    assert "contains itself" in str(error(spec))


@pytest.mark.parametrize("text", [
    "pipeline:\n  - stft: {window: " + "[" * 5000 + "]" * 5000 + "}\n",
    "pipeline:\n  - stft: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n",
    "pipeline:\n" + "- " * 5000 + "stft\n",
])
def test_deep_nesting_is_a_spec_error_not_a_recursion_error(tmp_path, text):
    path = tmp_path / "deep.yaml"
    path.write_text(text)
    message = str(error(path))
    assert message.startswith(f"{path}:") and f"at most {MAX_DEPTH} levels" in message
    assert len(spec_errors(path)) == 1


def test_a_deeply_nested_dict_is_a_spec_error():
    deep: dict = {}
    level = deep
    for _ in range(5000):
        level["a"] = {}
        level = level["a"]
    message = str(error({"pipeline": [{"stft": deep}]}))
    assert message.startswith("<dict>:") and f"at most {MAX_DEPTH} levels" in message


def test_a_file_over_the_size_limit_is_refused(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("# " + "x" * MAX_SPEC_BYTES + "\npipeline: [{stft: {}}]\n")
    assert f"a spec is at most {MAX_SPEC_BYTES} bytes" in str(error(path))


def test_python_tags_stay_refused(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("pipeline:\n  - stft: {window: !!python/name:os.system }\n")
    assert "malformed YAML" in str(error(path))


# -- wrong types ------------------------------------------------------------------------------------
@pytest.mark.parametrize("key, value, words", [
    ("dtype", {"float": 32}, "is not allowed; valid: float32"),
    ("dtype", ["float32"], "is not allowed; valid: float32"),
    ("device", ["cpu"], "is not a device"),
    ("device", 0, "is not a device"),
    ("device", {"type": "cpu"}, "is not a device"),
    ("channels", {"mono": True}, "expected mono"),
    ("channels", ["mono"], "expected mono"),
    ("check_input", [True], "expected true or false"),
    ("input", {"power": 1}, "is not a kind"),
    ("input", ["power"], "is not a kind"),
    ("name", ["stft"], "expected a string"),
    ("description", {"a": 1}, "expected a string"),
    ("pipeline", [["stft", {}]], "each step is a mapping"),
    ("pipeline", [[{"stft": {}}]], "each step is a mapping"),
    ("pipeline", {"stft": {}}, "must be a non-empty list"),
    ("pipeline", "stft", "must be a non-empty list"),
])
def test_wrong_typed_top_level_values_are_spec_errors_with_their_path(key, value, words):
    spec = {"pipeline": [{"stft": {}}], key: value}
    problem = error(spec)
    assert problem.path.startswith(key) and words in str(problem)
    assert [e.path for e in spec_errors(spec, device="cpu")] == [problem.path]


def test_wrong_typed_step_names_and_parameters():
    assert error({"pipeline": [{None: {}}]}).path == "pipeline[0]"
    assert error({"pipeline": [{"stft": {"n_fft": {"a": 1}}}]}).path == "pipeline[0].stft.n_fft"
    assert error({"pipeline": [{"stft": {"window": [{"a": 1}]}}]}).path == "pipeline[0].stft.window"
    long_name = "x" * 10_000
    problem = error({"pipeline": [{long_name: {}}]})
    assert len(problem.path) < 120 and len(str(problem)) < 1500


# -- encodings --------------------------------------------------------------------------------------
SPEC_TEXT = "description: café\npipeline:\n  - stft: {n_fft: 512}\n"


@pytest.mark.parametrize("encoding, words", [
    ("utf-16", "UTF-16 byte-order mark"),
    ("utf-16-le", "NUL byte"),
    ("utf-32", "UTF-32 byte-order mark"),
    ("latin-1", "byte 0xe9 at offset 16 (line 1)"),
])
def test_files_that_are_not_utf8_are_spec_errors_naming_the_file(tmp_path, encoding, words):
    path = tmp_path / f"{encoding}.yaml"
    path.write_bytes(SPEC_TEXT.encode(encoding))
    problem = error(path)
    assert problem.path == str(path) and words in str(problem) and "save the file as UTF-8" in str(problem)


def test_utf8_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(SPEC_TEXT.encode("utf-8-sig"))
    assert build_transform(path, device="cpu")[0].n_fft == 512


# -- duplicate keys ---------------------------------------------------------------------------------
def test_duplicate_top_level_key_is_a_spec_error(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text("pipeline:\n  - stft: {}\npipeline:\n  - mel: {}\n")
    problem = error(path)
    assert problem.path == "pipeline" and "duplicate key 'pipeline'" in str(problem)
    assert "line 1, column 1 and line 3, column 1" in str(problem)


def test_duplicate_parameter_is_a_spec_error_with_its_path(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text("pipeline:\n  - mel: {}\n  - stft: {n_fft: 512, n_fft: 4096}\n")
    problem = error(path)
    assert problem.path == "pipeline[1].stft.n_fft" and "duplicate key 'n_fft'" in str(problem)


def test_merge_keys_and_anchors_still_work(tmp_path):
    path = tmp_path / "merge.yaml"
    path.write_text("pipeline:\n  - stft: {<<: {n_fft: 512, hop_length: 128}, n_fft: 1024, output_format: Magnitude}\n"
                    "  - amplitude_to_db: {top_db: &db 60}\ndescription: *db\n")
    with pytest.raises(SpecError, match="description: 60 is not allowed; expected a string"):
        build_transform(path, device="cpu")
    path.write_text(path.read_text().replace("description: *db", "name: merged"))
    pipe = build_transform(path, device="cpu")
    assert (pipe[0].n_fft, pipe[0].hop_length, pipe[1].config["top_db"]) == (1024, 128, 60)


# -- memory -----------------------------------------------------------------------------------------
@pytest.mark.skipif(importlib.util.find_spec("nnaudio_core.budget") is None,
                    reason="needs the lead's memory budget (without it the spec would try to allocate 59.5 GiB)")
def test_a_spec_that_needs_huge_memory_is_a_spec_error_with_its_path():
    spec = {"pipeline": [{"cqt1992": {"sr": 192000, "fmin": 0.5, "n_bins": 300, "bins_per_octave": 24,
                                      "backend": "conv"}}]}
    started = time.perf_counter()
    problem = error(spec)
    assert problem.path.startswith("pipeline[0].cqt1992") and "GiB" in str(problem)
    assert [e.path for e in spec_errors(spec, device="cpu")] == [problem.path]
    assert time.perf_counter() - started < 10


# -- chaining ---------------------------------------------------------------------------------------
def test_shapes_that_cannot_chain_are_caught_when_the_spec_is_built():
    problem = error({"pipeline": [{"stft": {"n_fft": 512, "output_format": "Power"}}, {"mel_scale": {"n_fft": 2048}}]})
    assert problem.path == "pipeline[1].mel_scale" and "257 frequency rows" in str(problem)
    assert "built for 1025 rows" in str(problem)
    problem = error({"pipeline": [{"stft": {"n_fft": 512, "output_format": "Power"}},
                                  {"mel_scale": {"n_fft": 512, "n_mels": 64}}, {"power_to_db": {}},
                                  {"dct": {"n_bands": 128}}]})
    assert problem.path == "pipeline[3].dct" and "64 frequency rows" in str(problem) and "n_bands" in str(problem)


def test_a_pipeline_built_by_hand_checks_that_its_steps_chain():
    stft = get_transform("stft")(n_fft=512, output_format="Power")
    with pytest.raises(ValueError, match="257 frequency rows"):
        Pipeline([stft, get_transform("mel_scale")(n_fft=2048)])
    with pytest.raises(ValueError, match=r"step 0 \(power_to_db\) takes power input, but the input is waveform"):
        Pipeline([get_transform("power_to_db")()])
    with pytest.raises(ValueError, match="takes waveform input, but step 0 \\(stft\\) produces power"):
        Pipeline([stft, get_transform("stft")()])
    assert Pipeline([get_transform("power_to_db")()], input_kind="power").output_kind == "decibels"


# -- dtypes -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_a_dtype_the_transforms_cannot_run_in_is_caught_when_the_spec_is_built(dtype):
    spec = {"dtype": dtype, "pipeline": [{"stft": {"n_fft": 256, "output_format": "Power"}},
                                         {"mel_scale": {"n_fft": 256, "n_mels": 16}}]}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            get_transform("stft")(n_fft=256).to(getattr(torch, dtype))(torch.zeros(1024, dtype=getattr(torch, dtype)))
    except RuntimeError:
        pass
    else:
        pytest.skip(f"torch.stft runs in {dtype} on this CPU")
    problem = error(spec)
    assert problem.path == "dtype" and f"{dtype} is not supported by pipeline[0].stft on cpu" in str(problem)
    assert "float32, float64" in str(problem)
    assert [e.path for e in spec_errors(spec, device="cpu")] == ["dtype"]


def test_half_precision_steps_that_run_in_it_still_build():
    pipe = build_transform({"dtype": "float16", "input": "power", "pipeline": [{"power_to_db": {}}]}, device="cpu")
    assert pipe(torch.rand(8, 4, dtype=torch.float16) + 0.1).dtype == torch.float16
    assert build_transform("stft", device="cpu", dtype="float64").dtype == torch.float64


# -- spectrogram input ------------------------------------------------------------------------------
def test_to_spec_of_every_transform_rebuilds_it():
    for name in available_transforms():
        transform = get_transform(name)()
        spec = transform.to_spec()
        pipe = build_transform(spec, device="cpu")
        x = transform.example_input(2) if transform.core_dims == 2 else transform.example_input(2, length=4096)
        torch.testing.assert_close(pipe(x), transform(x), msg=name)
        assert ("input" in spec) == ("waveform" not in transform.input_kinds), name
        assert build_transform(pipe.get_config()).get_config() == pipe.get_config(), name


def test_the_input_key_says_what_the_first_step_takes():
    pipe = build_transform({"input": "power", "pipeline": [{"power_to_db": {}}]}, device="cpu")
    assert pipe.input_kind == "power" and pipe.get_config()["input"] == "power"
    assert "input" not in build_transform("stft", device="cpu").get_config()
    problem = error({"input": "powr", "pipeline": [{"power_to_db": {}}]})
    assert problem.path == "input" and "did you mean 'power'" in str(problem) and "waveform, complex" in str(problem)
    problem = error({"pipeline": [{"power_to_db": {}}]})
    assert problem.path == "pipeline[0].power_to_db" and "set `input: power`" in str(problem)
    problem = error({"input": "power", "pipeline": [{"stft": {}}]})
    assert "takes waveform input, but what comes before it, the spec's input, produces power" in str(problem)


# -- every error ------------------------------------------------------------------------------------
MANY_ERRORS = {
    "dtype": "float8",
    "chanels": "mono",
    "pipeline": [
        {"stft": {"n_ftt": 1024, "hop_length": 0, "output_format": "Power"}},
        {"mel_scale": {"n_fft": 2048, "n_mels": 64}},
        {"power_to_db": {"top_db": -3}},
        {"dct": {"n_bands": 128}},
        {"sftf": {}},
        {"stft": {}},
    ],
}


def test_spec_errors_lists_every_error_and_starts_with_the_one_build_transform_raises():
    errors = spec_errors(MANY_ERRORS, device="cpu")
    assert [e.path for e in errors] == ["chanels", "dtype", "pipeline[0].stft.n_ftt", "pipeline[0].stft.hop_length",
                                        "pipeline[2].power_to_db.top_db", "pipeline[3].dct", "pipeline[4].sftf"]
    assert str(errors[0]) == str(error(MANY_ERRORS))
    assert spec_errors("mfcc_chain", device="cpu") == [] and spec_errors("no-such-spec")[0].path == ""


def test_a_reported_error_does_not_cause_another():
    # the typo leaves n_fft at its default, which would not fit the mel step: one error only
    spec = {"pipeline": [{"stft": {"n_ftt": 512, "output_format": "Power"}}, {"mel_scale": {"n_fft": 512}}]}
    assert [e.path for e in spec_errors(spec, device="cpu")] == ["pipeline[0].stft.n_ftt"]
    spec = {"pipeline": [{"stft": {"output_format": "Powr"}}, {"mel_scale": {}}]}
    assert [e.path for e in spec_errors(spec, device="cpu")] == ["pipeline[0].stft.output_format"]


def test_validate_prints_every_error_on_its_own_line_and_exits_1(tmp_path, capsys):
    import yaml

    path = tmp_path / "many.yaml"
    path.write_text(yaml.safe_dump(MANY_ERRORS))
    assert main(["validate", str(path)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"{path}: invalid spec (7 errors)" and len(lines) == 8
    assert lines[1].startswith("  chanels:") and lines[-1].startswith("  pipeline[4].sftf:")
    path.write_text(laughs(9))
    assert main(["validate", str(path)]) == 1
    assert "expands to more than" in capsys.readouterr().err
    path.write_text("input: power\npipeline:\n  - power_to_db: {}\n")
    assert main(["validate", str(path)]) == 0
    assert "input: power" in capsys.readouterr().out
