"""tfsr-profile: measure this device's int8 latencies and fit a latency profile.

    tfsr-profile --out=cpu_1thread.json
    tfsr-profile --config=configs/tiny_x2_search.py --models=60 --threads=4 --out=cpu_4threads.json

Samples `--models` random specs from --config's search space (after the
x`scale` reference designs: ESPCN, FSRCNN, ECBSR-M4C16 plain and ecb,
ABPN-like), writes each one's int8 TFLite file as `tfsr-export
--quantize=int8` does, measures it with ai-edge-litert for one LR input of
--lr_size on --threads threads, and fits per-op-kind coefficients
(`tfsr.latency_profile`).  The profile is saved after every model, so a
killed run resumes where it stopped.  A search uses it with
--config.search.device_profile=FILE (no conversion per candidate).

For a phone or a board, which needs only Python, numpy and ai-edge-litert:

    tfsr-profile --out=phone.json --export_only          # here: OUT.models/*.tflite
    python device_timer.py phone.json.models --out=times.json   # there (tfsr/device_timer.py)
    tfsr-profile --out=phone.json --times=times.json     # here: fit
"""

import os

from tfsr.cli import common

from absl import flags  # noqa: E402

flags.DEFINE_string("out", None, "Profile JSON to write (resumed when it exists with the same settings).")
flags.mark_flag_as_required("out")
flags.DEFINE_integer("models", 40, "Random models to measure (beyond the reference designs).", lower_bound=1)
flags.DEFINE_string("lr_size", "640x360", "WIDTHxHEIGHT of the LR input the latencies are for.")
flags.DEFINE_integer("threads", 1, "Interpreter threads.", lower_bound=1)
flags.DEFINE_integer("runs", 15, "Timed runs per model (the median is kept).", lower_bound=1)
flags.DEFINE_integer("seed", 0, "Seed of the random models.")
flags.DEFINE_bool("export_only", False, "Only write the int8 files (OUT.models/), to time them on another device "
                  "with tfsr/device_timer.py.")
flags.DEFINE_string("times", None, "device_timer.py's times.json for the files --export_only wrote: fit from them.")
common.config_file_flag(default="search")
FLAGS = flags.FLAGS


def main(argv):
    import numpy as np

    from tfsr.arch import ArchSpec, count, zoo
    from tfsr.config import parse_size
    from tfsr.device_timer import device_info
    from tfsr.latency import tflite_latency_ms, write_int8_file
    from tfsr.latency_profile import FEATURES, REFERENCES, spearman
    from tfsr.outputs import check_writable_location
    from tfsr.search.run import make_space

    cfg = common.load_config()
    if "space" not in cfg:
        common.fail(f"--config={FLAGS['config'].config_filename} is not a search config (no 'space' section)")
    lr_size = parse_size(FLAGS.lr_size, "--lr_size")
    out, times = FLAGS.out, _read_times(FLAGS.times, lr_size) if FLAGS.times else None
    check_writable_location(out, "--out")
    profile = _open_profile(out, lr_size, times["device"] if times else device_info())
    space = make_space(cfg)
    rng = np.random.default_rng(FLAGS.seed)
    specs = [zoo.resolve(name, cfg.scale) for name in REFERENCES]
    specs += space.corners()
    specs += [space.sample(rng, name=f"random_{i:03d}") for i in range(FLAGS.models)]
    folder = out + ".models"
    os.makedirs(folder, exist_ok=True)
    if times is None and not FLAGS.export_only:
        print(f"profiling {len(specs)} models at {lr_size[1]}x{lr_size[0]}, {FLAGS.threads} thread(s) on "
              f"{profile.device['cpu']}", flush=True)  # fmt: skip
    # Entries are matched by name: a profile made before the space's corners were
    # profiled, or with fewer --models, gains what it lacks and keeps what it has.
    entries = {m["name"]: m for m in profile.models}
    for spec in specs:
        if spec.name not in entries:
            entries[spec.name] = {"name": spec.name, "spec": spec.to_dict(), "ms": None}
            profile.models.append(entries[spec.name])
    position = {m["name"]: k for k, m in enumerate(profile.models)}  # names the entry's file
    for i, spec in enumerate(specs):
        entry = entries[spec.name]
        file = os.path.join(folder, f"{position[spec.name]:03d}.tflite")
        if entry["ms"] is not None:
            continue
        if times is not None:  # measured on another device by tfsr/device_timer.py
            entry["ms"] = times["times"].get(os.path.basename(file))
        elif FLAGS.export_only:
            if not os.path.exists(file):
                write_int8_file(spec, file)
        else:
            made = not os.path.exists(file)
            if made:
                write_int8_file(spec, file)
            entry["ms"] = tflite_latency_ms(file, lr_size, FLAGS.threads, FLAGS.runs)
            if made:
                os.remove(file)
            print(f"[profile] {i + 1}/{len(specs)} {spec.name}: {entry['ms']:.1f} ms int8, "
                  f"{count(spec, lr_size).mult_adds / 1e9:.2f}G mult-adds", flush=True)  # fmt: skip
        profile.save(out)
    if FLAGS.export_only:
        print(f"wrote {len(specs)} int8 files to {folder}/; time them on the device with\n"
              f"  python device_timer.py {os.path.basename(folder)} --lr_size={FLAGS.lr_size} "
              f"--threads={FLAGS.threads} --out=times.json\n"
              f"(device_timer.py: {os.path.abspath(_device_timer_file())}), then\n"
              f"  tfsr-profile --out={out} --times=times.json  (same --config, --models, --lr_size, --threads)")
        return
    missing = [m["name"] for m in profile.models if m["ms"] is None]
    if missing:
        common.fail(f"--times={FLAGS.times} has no time for {len(missing)} of the models (first: {missing[0]}); "
                    "time the whole folder")  # fmt: skip
    if not os.listdir(folder):
        os.rmdir(folder)
    profile.refit().save(out)
    measured = np.array([m["ms"] for m in profile.models])
    predicted = np.array([profile.predict(ArchSpec.from_dict(m["spec"])) for m in profile.models])
    error = np.abs(predicted / measured - 1)
    print(f"fitted on {len(measured)} models: median |error| {100 * np.median(error):.1f}%, "
          f"Spearman {spearman(predicted, measured):.3f} (in-sample; bench/latency_predictor.py tests it on others)")
    for name, c in zip(FEATURES, profile.coefficients):
        if c:
            print(f"  {name:<14}{c:10.3f}")
    print(f"written: {out}  (--config.search.device_profile={out})")


def _open_profile(out, lr_size, device):
    """The profile at `out` to resume (same settings), or a new one."""
    from tfsr.errors import UserError
    from tfsr.latency_profile import LatencyProfile

    if not os.path.exists(out):
        return LatencyProfile(lr_size, FLAGS.threads, device)
    try:
        profile = LatencyProfile.load(out)
    except (ValueError, KeyError, OSError) as e:
        raise UserError(f"--out={out} exists and is not a tfsr profile ({e}); choose another file") from None
    if tuple(profile.lr_size) != tuple(lr_size) or profile.threads != FLAGS.threads:
        raise UserError(f"--out={out} was measured at {profile.lr_size[1]}x{profile.lr_size[0]}, "
                        f"{profile.threads} thread(s); choose another file for these settings")  # fmt: skip
    profile.device = device
    done = len(profile.measured())
    if done:
        print(f"resuming {out}: {done} models measured", flush=True)
    return profile


def _read_times(path, lr_size):
    """device_timer.py's output, checked against this profile's settings."""
    import json

    from tfsr.errors import UserError

    try:
        with open(path) as f:
            times = json.load(f)
        size, threads = tuple(times["lr_size"]), int(times["threads"])
        if not isinstance(times["times"], dict) or not isinstance(times["device"], dict):
            raise ValueError("no times or device")
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise UserError(f"--times={path}: not a device_timer.py output ({e})") from None
    if size != tuple(lr_size) or threads != FLAGS.threads:
        raise UserError(f"--times={path} was timed at {size[1]}x{size[0]}, {threads} thread(s); pass the same "
                        "--lr_size and --threads")  # fmt: skip
    return times


def _device_timer_file():
    from tfsr import device_timer

    return device_timer.__file__


def entry():
    common.run(main)


if __name__ == "__main__":
    entry()
