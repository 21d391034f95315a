"""Specs: loading, bundled specs, pipelines, and every error with its spec path."""

from __future__ import annotations

import pytest
import torch

from nnaudio_core import Pipeline, SpecError, build_transform, bundled_specs, get_transform


def test_bundled_stft_spec_by_name_and_file_name():
    for name in ("stft", "stft.yaml"):
        pipe = build_transform(name)
        assert isinstance(pipe, Pipeline) and pipe.device.type == ("cuda" if torch.cuda.is_available() else "cpu")
        out = pipe(torch.randn(2, 22050, device=pipe.device))
        assert out.shape == (2, 1025, 1 + 22050 // 512)
        assert pipe.output_kind == "magnitude"
    assert "stft" in bundled_specs()


def test_spec_file_and_overrides(tmp_path):
    path = tmp_path / "my.yaml"
    path.write_text("device: cpu\ndtype: float64\npipeline:\n  - stft: {n_fft: 512, output_format: Magnitude}\n")
    pipe = build_transform(path)
    assert pipe.dtype == torch.float64 and pipe[0].n_fft == 512
    assert build_transform(str(path), dtype=torch.float32).dtype == torch.float32
    x = torch.randn(4096, dtype=torch.float64)
    reference = get_transform("stft")(n_fft=512, output_format="Magnitude").double()
    torch.testing.assert_close(pipe(x), reference(x))


def test_pipeline_get_config_round_trips():
    pipe = build_transform({"pipeline": [{"stft": {"n_fft": 256, "output_format": "Power"}}]}, device="cpu")
    again = build_transform(pipe.get_config())
    x = torch.randn(3000)
    torch.testing.assert_close(again(x), pipe(x))
    assert again.get_config() == pipe.get_config()


def error(spec, device="cpu") -> str:
    with pytest.raises(SpecError) as info:
        build_transform(spec, device=device)
    return str(info.value)


def test_malformed_yaml_reports_line_and_column(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("pipeline:\n  - stft: {n_fft: 512\n  - mel: {}\n")
    message = error(path)
    assert "malformed YAML" in message and "bad.yaml:3:" in message and "line 3" in message


def test_unknown_top_level_key():
    message = error({"pipline": [{"stft": {}}], "device": "cpu"})
    assert message.startswith("pipline:") and "did you mean 'pipeline'" in message and "valid keys" in message


def test_unknown_transform_has_path_did_you_mean_and_list():
    message = error({"pipeline": [{"stft": {}}, {"sftf": {}}]})
    assert message.startswith("pipeline[1].sftf:") and "did you mean 'stft'" in message
    assert "available transforms: " in message and "stft" in message


def test_unknown_parameter_has_path_did_you_mean_and_list():
    message = error({"pipeline": [{"stft": {"n_ftt": 512}}]})
    assert message.startswith("pipeline[0].stft.n_ftt:") and "did you mean 'n_fft'" in message
    assert "valid parameters of stft: n_fft, win_length" in message


@pytest.mark.parametrize(
    "params, path, words",
    [
        ({"n_fft": "big"}, "pipeline[0].stft.n_fft", "expected an integer"),
        ({"center": "yes"}, "pipeline[0].stft.center", "expected true or false"),
        ({"freq_scale": "lin"}, "pipeline[0].stft.freq_scale", "did you mean 'linear'"),
        ({"win_length": 4096, "n_fft": 1024}, "pipeline[0].stft.win_length", "win_length <= n_fft=1024"),
    ],
)
def test_wrong_values_are_reported_with_their_path(params, path, words):
    message = error({"pipeline": [{"stft": params}]})
    assert message.startswith(path + ":") and words in message


def test_steps_whose_kinds_do_not_fit():
    message = error({"pipeline": [{"stft": {"output_format": "Magnitude"}}, {"stft": {}}]})
    assert message.startswith("pipeline[1].stft:") and "takes waveform input" in message and "magnitude" in message


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_unavailable_device():
    message = error({"device": "cuda", "pipeline": [{"stft": {}}]}, device=None)
    assert message.startswith("device:") and "not available" in message and "available: cpu" in message
    with pytest.raises(SpecError, match="is not available"):
        build_transform("stft", device="cuda:3")
    with pytest.raises(SpecError, match="not a device"):
        build_transform("stft", device="gpu")


def test_a_spec_can_never_name_a_python_import_path(tmp_path):
    assert "never a Python import path" in error({"pipeline": [{"os.system": {}}]})
    assert "never a Python import path" in error({"pipeline": [{"nnaudio_plugins.stft:STFT": {}}]})
    path = tmp_path / "evil.yaml"
    path.write_text("pipeline:\n  - !!python/object/apply:os.system ['echo pwned']\n")
    assert "malformed YAML" in error(path) or "constructor" in error(path)


def test_other_structural_errors(tmp_path):
    assert error({"device": "cpu"}).startswith("pipeline: missing")
    assert error({"pipeline": []}).startswith("pipeline: must be a non-empty list")
    assert error({"pipeline": [{"stft": {}, "mel": {}}]}).startswith("pipeline[0]: each step")
    assert error({"pipeline": [{"stft": [1, 2]}]}).startswith("pipeline[0].stft: parameters must be a mapping")
    assert error({"dtype": "float8", "pipeline": [{"stft": {}}]}).startswith("dtype:")
    assert error({"check_input": "yes", "pipeline": [{"stft": {}}]}).startswith("check_input:")
    assert "neither a bundled spec nor a file" in error("no-such-spec")
    assert "did you mean 'stft'" in error("sftf")
    (tmp_path / "list.yaml").write_text("- stft: {}\n")
    assert "must be a mapping" in error(tmp_path / "list.yaml")


def test_one_step_shortcut_and_null_params():
    pipe = build_transform({"stft": None}, device="cpu")
    assert len(pipe) == 1 and pipe[0].n_fft == 2048
