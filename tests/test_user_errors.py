"""Every user mistake ends with one line on stderr, exit status 2 and no
traceback; folders with unreadable files are handled the same everywhere.

The table runs in one process per tool (tests/cli_cases.py), so it stays
cheap however many cases it holds.
"""

import json
import os
import struct
import subprocess
import sys
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, SHARED_WEIGHTS, run_tool
from tfsr.data.evalsets import load_eval_set
from tfsr.data.images import load_folder, load_image

BOMB_SIDE = 100_000  # a PNG header claiming 100000x100000 pixels
LPIPS_ALEX = os.path.join(SHARED_WEIGHTS, "lpips_alex_v0.1.npz")


def _bomb_png(path):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", BOMB_SIDE, BOMB_SIDE, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))  # fmt: skip


def _image(path, rng, size=(40, 48)):
    Image.fromarray((rng.random((*size, 3)) * 255).astype(np.uint8)).save(path)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A folder of user files, good and bad."""
    root = tmp_path_factory.mktemp("user")
    rng = np.random.default_rng(0)
    _image(root / "photo.png", rng)
    (root / "mixed").mkdir()  # readable images of every extension, and unreadable files
    for name in ("a.png", "b.webp", "c.gif", "d.jpg"):
        _image(root / "mixed" / name, rng)
    (root / "mixed" / "broken.png").write_bytes(b"not an image")
    _bomb_png(root / "mixed" / "bomb.png")
    (root / "unreadable").mkdir()
    (root / "unreadable" / "broken.png").write_bytes(b"not an image")
    _bomb_png(root / "bomb.png")
    with zipfile.ZipFile(root / "noconfig.keras", "w") as archive:
        archive.writestr("metadata.json", "{}")
    (root / "text.keras").write_text("hello")
    (root / "afile").write_text("a regular file")
    (root / "outdir").mkdir()
    (root / "old.json").write_text("{}")
    (root / "raises.py").write_text("def get_config():\n    raise RuntimeError('boom')\n")
    # An RGB x2 generator as tfsr-train leaves it, and an LPIPS-alex-shaped file (random weights).
    from tfsr.arch import build_model, zoo
    from tfsr.perceptual import random_lpips_weights

    (root / "gen").mkdir()
    spec = zoo.espcn(2, channels=3)
    build_model(spec).save(root / "gen" / "model.keras")
    spec.save(str(root / "gen" / "spec.json"))
    random_lpips_weights(str(root / "lpips.npz"), seed=5)
    return root


# (tool, arguments with {f} for the fixture folder, a fragment of the one line)
MISTAKES = [
    ("upscale", ["--model=bicubic", "--scale=0", "--input={f}/photo.png", "--output={f}/o1.png"], "--scale"),
    ("upscale", ["--model=bicubic", "--scale=-2", "--input={f}/photo.png", "--output={f}/o2.png"], "--scale"),
    ("upscale", ["--model={f}/noconfig.keras", "--input={f}/photo.png", "--output={f}/o3.png"], "no config.json"),
    ("upscale", ["--model={f}/text.keras", "--input={f}/photo.png", "--output={f}/o4.png"], "not a .keras model"),
    ("upscale", ["--model=model.onnx", "--input={f}/photo.png", "--output={f}/o5.png"], "model.onnx"),
    ("upscale", ["--model=zoo:x9", "--input={f}/photo.png", "--output={f}/o6.png"], "zoo:x9"),
    ("upscale", ["--model=bicubic", "--input={f}/bomb.png", "--output={f}/o7.png"], "exceeds limit"),
    ("upscale", ["--model=bicubic", "--input={f}/nothing.png", "--output={f}/o8.png"], "nothing.png"),
    ("upscale", ["--model=bicubic", "--input={f}/photo.png", "--output={f}/photo.png"], "is the input"),
    ("upscale", ["--model=bicubic", "--input={f}/photo.png", "--output={f}/outdir"], "is a folder"),
    ("upscale", ["--model=bicubic", "--input={f}/photo.png", "--output={f}/o.txt"], "must end in"),
    ("upscale", ["--model=bicubic", "--input={f}/photo.png", "--output={f}/afile/o.png"], "is a file"),
    ("upscale", ["--model=bicubic", "--input={f}/mixed", "--output={f}/mixed"], "is the input folder"),
    ("upscale", ["--model=bicubic", "--input={f}/unreadable", "--output={f}/out_u"], "could be read"),
    ("upscale", ["--model=bicubic", "--input={f}/photo.png", "--output={f}/o9.png", "--tile=-1"], "--tile"),
    ("upscale", ["--model=bicubic", "--input={f}/photo.png"], "--output"),
    ("upscale", ["--model=bicubic", "--input={f}/photo.png", "--output={f}/o10.png", "stray"], "stray"),
    ("evaluate", ["--model=bicubic", "--scale=0"], "--scale"),
    ("evaluate", ["--model=bicubic", "--scale=-2"], "--scale"),
    ("evaluate", ["--model=nope.keras"], "nope.keras"),
    ("evaluate", ["--model={f}/noconfig.keras"], "no config.json"),
    ("evaluate", ["--model=bicubic", "--data=/no/such/folder"], "/no/such/folder"),
    ("evaluate", ["--model=bicubic", "--data={f}/unreadable"], "no readable images"),
    ("evaluate", ["--model=bicubic", "--json_out={f}/outdir"], "is a folder"),
    ("evaluate", ["--model=bicubic", "--json_out={f}/afile/r.json"], "is a file"),
    ("evaluate", ["--model=bicubic", "--json_out={f}/old.json"], "--overwrite"),
    ("export", ["--model={f}/noconfig.keras", "--arch=x.json", "--out={f}/x.tflite"], "x.json"),
    ("export", ["--model={f}/text.keras", "--out={f}/x.tflite"], "spec.json"),
    ("export", ["--model=zoo:x9", "--out={f}/x.tflite"], "zoo:x9"),
    ("export", ["--model=nope.keras", "--out={f}/x.tflite"], "nope.keras"),
    ("train", ["--arch=espcn", "--scale=2"], "--workdir"),
    ("train", ["--arch=espcn", "--workdir={f}/afile/run"], "is a file"),
    ("train", ["--arch=espcn", "--workdir={f}/afile"], "is a file"),
    ("train", ["--arch=espcn", "--scale=0", "--workdir={f}/run"], "--scale"),
    ("train", ["--arch=nosuch", "--workdir={f}/run"], "nosuch"),
    ("train", ["--arch=espcn", "--train_data={f}/nothing", "--workdir={f}/run"], "nothing"),
    ("train", ["--arch=espcn", "--train_data={f}/unreadable", "--workdir={f}/run"], "no usable images"),
    ("train", ["--arch=espcn", "--config={f}/raises.py", "--workdir={f}/run"], "RuntimeError: boom"),
    ("train", ["--arch=espcn", "--config=configs/nope.py", "--workdir={f}/run"], "nope.py"),
    ("train", ["--arch=espcn", "--config.train.steps=many", "--workdir={f}/run"], "steps"),
    ("cost", ["--arch=fsrcnn", "--lr_size=big"], "--lr_size"),
    ("cost", ["--arch=missing.json"], "missing.json"),
    ("cost", ["--arch=fsrcnn", "--nonsense=1"], "nonsense"),
    ("cost", ["--arch=fsrcnn", "stray"], "unexpected arguments: stray"),
    ("cost", ["--arch=fsrcnn", "--scale=5"], "scale"),
    ("cost", ["--arch=fsrcnn", "--scale=0"], "--scale"),
    ("search", ["--workdir={f}/afile/search"], "is a file"),
    ("profile", ["--out={f}/p.json", "--lr_size=0x3"], "--lr_size"),
    ("profile", ["--out={f}/old.json"], "not a tfsr profile"),
    ("profile", ["--out={f}/afile/p.json"], "--out"),
    ("profile", ["--out={f}/p.json", "--config=configs/tiny_x2.py"], "not a search config"),
    ("tpsr", ["--workdir={f}/t"], "config.lpips_weights is required"),
    ("tpsr", ["--workdir={f}/t", "--config.lpips_weights={f}/old.json"], "old.json"),
    ("tpsr", ["--workdir={f}/t", "--config.lpips_weights=" + LPIPS_ALEX], "config.vgg16_weights is required"),
    ("tpsr", ["--workdir={f}/t", "--config.lpips_weights=" + LPIPS_ALEX, "--config.perceptual=lpips",
              "--config.eval_data=/no/such/Set5"], "/no/such/Set5"),
    ("tpsr", ["--workdir={f}/t", "--config=configs/tiny_x2.py"], "not a tfsr-tpsr config"),
    ("tpsr", ["--workdir={f}/t", "--config.calibration=max"], "--config.calibration=max: not one of best, minmax"),
    ("train_gan", ["--discriminator=srgan", "--workdir={f}/g"], "--generator is required"),
    ("train_gan", ["--generator={f}/none.keras", "--discriminator=srgan", "--workdir={f}/g"], "no such file"),
    ("train_gan", ["--generator={f}/gen/model.keras", "--discriminator=patchgan", "--workdir={f}/g"], "built-in"),
    ("train_gan", ["--generator={f}/gen/model.keras", "--discriminator=srgan", "--workdir={f}/g", "--lpips_weights=/no/lpips.npz", "--config.gan.perceptual=lpips"],
     "lpips_weights=/no/lpips.npz: no such file"),
    ("train_gan", ["--generator={f}/gen/model.keras", "--discriminator=srgan", "--workdir={f}/g"], "vgg16_weights is required"),  # the default loss
    ("train_gan", ["--generator={f}/gen/model.keras", "--discriminator=srgan", "--workdir={f}/g", "--config.gan.vgg16_weights={f}/lpips.npz"], "not a VGG16 relu2_2 file"),
    ("train_gan", ["--generator={f}/gen/model.keras", "--discriminator=srgan", "--workdir={f}/g", "--config.gan.perceptual=vgg19"], "vgg19_weights is required"),
    ("train_gan", ["--generator={f}/gen/model.keras", "--discriminator=srgan", "--workdir={f}/g", "--lpips_weights={f}/lpips.npz", "--config.gan.perceptual=lpips",
                   "--config.gan.lpips_squeeze_weights={f}/lpips.npz"], "not a SqueezeNet"),
    ("search_dlsr", ["--workdir={f}/d", "--config.dlsr.max_mult_adds=0.001"], "max_mult_adds"),
    ("search_dlsr", ["--workdir={f}/d", "--config.dlsr.activation=gelu"], "activation"),
    ("search_dlsr", ["--workdir={f}/d", "--config.dlsr.device_profile={f}/old.json"], "not a readable tfsr profile"),
    ("data", ["--get=nosuch"], "unknown set nosuch"),
    ("data", ["--get=T91", "--data_root={f}/droot"], "--from"),
    ("data", ["--get=Set5,Set14", "--from={f}/mixed"], "one set"),
    ("data", ["--get=Set5", "--from={f}/nothing", "--data_root={f}/droot"], "nothing"),
    ("train", ["--arch=espcn", "--train_data=$TFSR_DATA/train/T91", "--data_root={f}/droot", "--workdir={f}/run"],
     "tfsr-data get T91"),
]
TOOLS = sorted({tool for tool, _, _ in MISTAKES})


def run_cases(tool, cases):
    """tests/cli_cases.py: every case of `tool` in one process."""
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tests", "cli_cases.py"), tool],
        input=json.dumps(cases), capture_output=True, text=True, timeout=600, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


HELP_TOOLS = ["upscale", "evaluate", "train", "export", "cost", "search", "data", "search_dlsr", "profile", "tpsr",
              "train_gan"]
# Folder mode with unreadable files in it ({o}: a fresh output folder).
FOLDER_CASES = {
    "upscale": ["--model=bicubic", "--input={f}/mixed", "--output={o}/x2"],
    "evaluate": ["--model=bicubic", "--data={f}/mixed", "--scale=2"],
}


@pytest.fixture(scope="module")
def outcomes(files, tmp_path_factory):
    """Every case of this file, run in one process per tool: {key: result}
    with keys i (MISTAKES[i]), ("help", tool) and ("folder", tool)."""
    out = tmp_path_factory.mktemp("outputs")
    found = {}
    for tool in sorted(set(TOOLS) | set(HELP_TOOLS)):
        keys, cases = [], []
        for i, (t, args, _) in enumerate(MISTAKES):
            if t == tool:
                keys.append(i)
                cases.append([a.format(f=files) for a in args])
        if tool in HELP_TOOLS:
            keys.append(("help", tool))
            cases.append(["--help"])
        if tool in FOLDER_CASES:
            keys.append(("folder", tool))
            cases.append([a.format(f=files, o=out) for a in FOLDER_CASES[tool]])
        found.update(zip(keys, run_cases(tool, cases)))
    found["output_folder"] = out
    return found


@pytest.mark.parametrize("index", range(len(MISTAKES)), ids=[f"{t}:{' '.join(a)}" for t, a, _ in MISTAKES])
def test_user_mistake_is_one_line_and_exit_2(outcomes, index):
    _, _, fragment = MISTAKES[index]
    result = outcomes[index]
    assert not result["traceback"], result["traceback"]
    # A folder's unreadable files are named in warnings before the error.
    lines = [line for line in result["stderr"].splitlines() if line.strip() and "] skipping " not in line
             and not line.startswith("WARNING: skipping")]  # fmt: skip
    assert result["code"] == 2, (result["code"], result["stderr"][-2000:])
    assert len(lines) == 1 and "Traceback" not in result["stderr"], result["stderr"]
    assert fragment in lines[0], lines[0]


def test_config_override_typo_is_one_line_with_the_hint():
    # ml_collections reads --config.* overrides when the flag is defined, at import: a process of its own.
    result = run_tool("train", "--arch=espcn", "--workdir=/tmp/never", "--config.train.stepz=10")
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert "--config.train.stepz" in lines[0] and 'Did you mean "steps"' in lines[0]


def test_folders_skip_unreadable_files_and_count_them(files, outcomes):
    """upscale, evaluate and training treat a bad file in a folder alike: a
    warning naming it, the rest done, and (for the tools) an "N skipped" line."""
    tmp_path = outcomes["output_folder"]
    for result in (outcomes[("folder", "upscale")], outcomes[("folder", "evaluate")]):
        assert result["code"] == 0 and not result["traceback"], result["stderr"]
        assert "2 unreadable files skipped" in result["stdout"]
        assert "broken.png" in result["stderr"] and "bomb.png" in result["stderr"]
    # .webp and .gif are read in folder mode as they are as a single --input.
    assert sorted(os.listdir(tmp_path / "x2")) == ["a.png", "b.png", "c.png", "d.png"]
    assert Image.open(tmp_path / "x2" / "b.png").size == (96, 80)
    assert len(load_eval_set(str(files / "mixed"), 2)) == 4
    images, paths = load_folder(str(files / "mixed"), min_size=8)
    assert [os.path.basename(p) for p in paths] == ["a.png", "b.webp", "c.gif", "d.jpg"]


def test_exif_orientation_is_applied(tmp_path):
    """A phone photo stored 40x20 with EXIF orientation 6 (rotate 90 degrees
    clockwise to view) is read upright, 20 wide and 40 tall, as viewers show it."""
    ramp = np.broadcast_to(np.linspace(0, 240, 40)[None, :, None], (20, 40, 3))  # brighter to the right
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(ramp.astype(np.uint8)).save(tmp_path / "phone.jpg", exif=exif, quality=95)
    upright = load_image(str(tmp_path / "phone.jpg")).astype(float)
    assert upright.shape == (40, 20, 3)
    # Turned clockwise, the stored left edge is the top: brighter downwards.
    assert np.abs(upright - np.rot90(ramp, k=-1)).mean() < 3


@pytest.mark.parametrize("tool", HELP_TOOLS)
def test_help_prints_the_tools_own_flags_and_exits_0(outcomes, tool):
    result = outcomes[("help", tool)]
    assert result["code"] == 0, result["stderr"]
    text = result["stdout"]
    assert text.startswith(f"tfsr-{tool.replace('_', '-')}") and "flags:" in text and "--helpfull" in text
    own = {"upscale": "--input", "evaluate": "--json_out", "train": "--arch", "export": "--quantize",
           "cost": "--lr_size", "search": "--workdir", "data": "--get", "search_dlsr": "--workdir",
           "profile": "--threads", "tpsr": "--workdir", "train_gan": "--discriminator"}[tool]  # fmt: skip
    assert own in text
    assert "--tt_check_filter" not in text  # absl's own flags stay in --helpfull
