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
common.config_file_flag(default="search")
FLAGS = flags.FLAGS

REFERENCES = ("espcn", "fsrcnn", "ecbsr_plain", "ecbsr", "abpn")


def main(argv):
    import numpy as np

    from tfsr.arch import count, zoo
    from tfsr.config import parse_size
    from tfsr.errors import UserError
    from tfsr.latency import tflite_latency_ms, write_int8_file
    from tfsr.latency_profile import FEATURES, LatencyProfile, spearman, this_device
    from tfsr.outputs import check_writable_location
    from tfsr.search.run import make_space

    cfg = common.load_config()
    if "space" not in cfg:
        common.fail(f"--config={FLAGS['config'].config_filename} is not a search config (no 'space' section)")
    lr_size = parse_size(FLAGS.lr_size, "--lr_size")
    height, width = lr_size
    out = FLAGS.out
    check_writable_location(out, "--out")
    if os.path.exists(out):
        try:
            profile = LatencyProfile.load(out)
        except (ValueError, KeyError, OSError) as e:
            raise UserError(f"--out={out} exists and is not a tfsr profile ({e}); choose another file") from None
        if tuple(profile.lr_size) != lr_size or profile.threads != FLAGS.threads:
            raise UserError(f"--out={out} was measured at {profile.lr_size[1]}x{profile.lr_size[0]}, "
                            f"{profile.threads} thread(s); choose another file for these settings")  # fmt: skip
        print(f"resuming {out}: {len(profile.models)} models measured", flush=True)
    else:
        profile = LatencyProfile(lr_size, FLAGS.threads, this_device())
    space = make_space(cfg)
    rng = np.random.default_rng(FLAGS.seed)
    specs = [zoo.resolve(name, cfg.scale) for name in REFERENCES]
    specs += [space.sample(rng, name=f"random_{i:03d}") for i in range(FLAGS.models)]
    print(f"profiling {len(specs)} models at {width}x{height}, {FLAGS.threads} thread(s) on {profile.device['cpu']}",
          flush=True)  # fmt: skip
    folder = out + ".models"
    os.makedirs(folder, exist_ok=True)
    for i, spec in enumerate(specs):
        if i < len(profile.models):
            continue
        path = write_int8_file(spec, os.path.join(folder, f"{i:03d}.tflite"))
        ms = tflite_latency_ms(path, lr_size, spec.channels, FLAGS.threads, FLAGS.runs)
        os.remove(path)
        profile.models.append({"name": spec.name, "spec": spec.to_dict(), "ms": ms})
        profile.save(out)
        print(f"[profile] {i + 1}/{len(specs)} {spec.name}: {ms:.1f} ms int8, "
              f"{count(spec, lr_size).mult_adds / 1e9:.2f}G mult-adds", flush=True)  # fmt: skip
    os.rmdir(folder)
    profile.refit().save(out)
    measured = np.array([m["ms"] for m in profile.models])
    predicted = np.array([profile.predict(_spec(m["spec"])) for m in profile.models])
    error = np.abs(predicted / measured - 1)
    print(f"fitted on {len(measured)} models: median |error| {100 * np.median(error):.1f}%, "
          f"Spearman {spearman(predicted, measured):.3f} (in-sample; bench/latency_predictor.py tests it on others)")
    for name, c in zip(FEATURES, profile.coefficients):
        if c:
            print(f"  {name:<14}{c:10.3f}")
    print(f"written: {out}  (--config.search.device_profile={out})")


def _spec(d):
    from tfsr.arch import ArchSpec

    return ArchSpec.from_dict(d)


def entry():
    common.run(main)


if __name__ == "__main__":
    entry()
