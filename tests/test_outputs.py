"""Nothing lost: tfsr never writes over an input, never lets two outputs
collide, never reads its own output back, never replaces an earlier output
without --overwrite; bad output paths are one line and exit 2."""

import os
import shutil

import pytest
from PIL import Image

from conftest import run_tool
from tfsr import samples
from tfsr.errors import UserError
from tfsr.outputs import check_output_file, folder_outputs, outside


def _photos(folder):
    """Two sample images as a.png and a.jpg (one stem), and b.png."""
    folder.mkdir()
    source = sorted(os.listdir(samples.VAL_DIR))
    image = Image.open(os.path.join(samples.VAL_DIR, source[0])).convert("RGB").crop((0, 0, 40, 32))
    image.save(folder / "a.png")
    image.transpose(Image.FLIP_LEFT_RIGHT).save(folder / "a.jpg", quality=95)
    image.transpose(Image.FLIP_TOP_BOTTOM).save(folder / "b.png")
    return folder


def _digest(folder):
    return {p: open(os.path.join(folder, p), "rb").read() for p in sorted(os.listdir(folder)) if os.path.isfile(os.path.join(folder, p))}


def test_output_rules(tmp_path):
    photos = _photos(tmp_path / "photos")
    files = [str(photos / n) for n in ("a.jpg", "a.png", "b.png")]
    outs = folder_outputs(files, str(photos), str(tmp_path / "x2"))
    assert [os.path.basename(o) for o in outs] == ["a_jpg.png", "a_png.png", "b.png"]
    assert outside(files + [str(photos / "x2" / "a.png")], str(photos / "x2")) == files
    with pytest.raises(UserError, match="is the input"):
        check_output_file(files[1], "--output", overwrite=True, inputs=files)
    with pytest.raises(UserError, match="already exists; pass --overwrite"):
        check_output_file(files[2], "--output")
    with pytest.raises(UserError, match="is a folder"):
        check_output_file(str(photos), "--output")
    with pytest.raises(UserError, match="must end in one of"):
        check_output_file(str(tmp_path / "out.txt"), "--output", extensions=(".png",))
    with pytest.raises(UserError, match="is a file, not a folder"):
        check_output_file(str(photos / "b.png" / "out.png"), "--output")
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(UserError, match="not writable"):
            check_output_file(str(locked / "out.png"), "--output")
    check_output_file(files[2], "--output", overwrite=True)  # an earlier output, replaced on request


def test_upscale_never_loses_a_file(tmp_path):
    photos = _photos(tmp_path / "photos")
    before = _digest(photos)
    # The photo itself as output: refused, even with --overwrite.
    same = run_tool("upscale", "--model=bicubic", f"--input={photos / 'a.png'}", f"--output={photos / 'a.png'}",
                    "--overwrite")  # fmt: skip
    assert same.returncode == 2 and "is the input" in same.stderr and "Traceback" not in same.stderr
    # The folder as its own output: refused before anything is written.
    into_itself = run_tool("upscale", "--model=bicubic", f"--input={photos}", f"--output={photos}")
    assert into_itself.returncode == 2 and "is the input folder" in into_itself.stderr
    assert _digest(photos) == before
    # An output folder inside the input: a.png and a.jpg both kept; a rerun
    # does not upscale x2/ again and does not replace without --overwrite.
    result = run_tool("upscale", "--model=bicubic", f"--input={photos}", f"--output={photos / 'x2'}")
    assert result.returncode == 0, result.stderr[-2000:]
    assert sorted(os.listdir(photos / "x2")) == ["a_jpg.png", "a_png.png", "b.png"]
    assert Image.open(photos / "x2" / "a_png.png").size == (80, 64)
    again = run_tool("upscale", "--model=bicubic", f"--input={photos}", f"--output={photos / 'x2'}")
    assert again.returncode == 2 and "already exists; pass --overwrite" in again.stderr
    replaced = run_tool("upscale", "--model=bicubic", f"--input={photos}", f"--output={photos / 'x2'}", "--overwrite")
    assert replaced.returncode == 0 and sorted(os.listdir(photos / "x2")) == ["a_jpg.png", "a_png.png", "b.png"]
    assert not os.path.exists(photos / "x2" / "x2")
    assert {k: v for k, v in _digest(photos).items()} == before


def test_evaluate_and_export_outputs_are_checked_before_the_work(tmp_path):
    report = tmp_path / "r.json"
    report.write_text("{}")
    kept = run_tool("evaluate", "--model=bicubic", f"--json_out={report}")
    assert kept.returncode == 2 and "already exists; pass --overwrite" in kept.stderr
    assert report.read_text() == "{}"
    folder = run_tool("evaluate", "--model=bicubic", f"--json_out={tmp_path}")
    assert folder.returncode == 2 and "is a folder" in folder.stderr and "Traceback" not in folder.stderr
    model = tmp_path / "m.keras"
    shutil.copy(os.path.join(os.path.dirname(__file__), "..", "configs", "specs", "falsr_x2_4g.json"), tmp_path / "spec.json")
    model.write_bytes(b"not read: the output check comes first")
    over_model = run_tool("export", f"--model={model}", f"--out={model}", "--overwrite")
    assert over_model.returncode == 2 and "--out" in over_model.stderr and model.read_bytes().startswith(b"not read")
