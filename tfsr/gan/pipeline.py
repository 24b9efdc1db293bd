"""TPSR end to end (tfsr-tpsr): the generator searched, trained for PSNR, its
discriminator searched, perceptual + adversarial training, scores, int8 file.

    WORKDIR/1_generator_search/       tfsr-search over TpsrSpace: pareto.json, pareto.png, top/
                                      (not made when `config.generator` names a spec to use)
            2_psnr/                   tfsr-train of the front's best-PSNR member: model.keras
            3_discriminator_search/   tfsr-search-discriminator for it: front.json, front.png, top/
            4_gan/                    tfsr-train-gan against the searched discriminator: generator.keras
            4_gan_<baseline>/         the same against `baseline_discriminator` (e.g. srgan), if set
            5_evaluation/             scores.json, crops.png (bicubic | PSNR model | GAN(s) | HR)
            6_export/                 generator_<quantize>.tflite, export.json
            summary.json              the generator's spec and cost, every score, the int8 file

Each stage is the library call its stage tool makes, so it resumes the way
that tool does (a kill loses at most one checkpoint interval or one trial),
and a stage whose output exists is skipped: run the same command again after
a kill and it goes on where it stopped.  The config has one section per
stage (`generator_search`, `psnr`, `discriminator_search`, `gan`), each the
config its stage tool reads; the top-level `scale`, data folders, weight
files and `perceptual` loss are written into every section, so they are set
once.
"""

import dataclasses
import glob
import os
import time

from tfsr.errors import UserError

GENERATOR_SEARCH, PSNR, DISCRIMINATOR_SEARCH, GAN = "1_generator_search", "2_psnr", "3_discriminator_search", "4_gan"
EVALUATION, EXPORT = "5_evaluation", "6_export"


@dataclasses.dataclass
class Stage:
    """One step of the pipeline: done when `output` exists; `run()` makes it."""

    title: str
    output: str
    run: object


class TpsrPipeline:
    """Runs the stages of `cfg` (see `tfsr.config.tpsr_config`) in `workdir`."""

    def __init__(self, cfg, workdir, log=print):
        self.cfg, self.workdir, self.log = cfg, os.path.abspath(workdir), log
        self.sections = {name: self._section(name) for name in ("generator_search", "psnr", "discriminator_search",
                                                                 "gan")}  # fmt: skip
        self._check_inputs()

    # ---- configuration ----------------------------------------------------------
    def _section(self, name):
        """The stage config `name` with the shared top-level fields written in."""
        section = self.cfg[name].copy_and_resolve_references()
        section.unlock()
        section.scale, section.color = self.cfg.scale, "rgb"
        section.train_data, section.val_data = self.cfg.train_data, self.cfg.val_data
        if "gan" in section:
            section.gan.lpips_weights = self.cfg.lpips_weights
            section.gan.lpips_squeeze_weights = self.cfg.lpips_squeeze_weights
            section.gan.vgg16_weights = self.cfg.vgg16_weights
            section.gan.perceptual = self.cfg.perceptual
        return section

    def _check_inputs(self):
        """Fails in one line, before hours of search, on a weight file or data folder that will not do."""
        from tfsr.data.root import expand
        from tfsr.export.exporter import CALIBRATIONS
        from tfsr.perceptual import LPIPS
        from tfsr.perceptual.losses import PerceptualLoss

        if self.cfg.generator:
            self._check_generator()
        if self.cfg.calibration not in CALIBRATIONS:
            raise UserError(f"--config.calibration={self.cfg.calibration}: not one of {', '.join(CALIBRATIONS)}")
        if not self.cfg.lpips_weights:
            raise UserError("config.lpips_weights is required: the discriminator search is scored by LPIPS-alex")
        for flag, path, backbone in (("config.lpips_weights", self.cfg.lpips_weights, "alex"),
                                     ("config.lpips_squeeze_weights", self.cfg.lpips_squeeze_weights, "squeeze")):  # fmt: skip
            if path and LPIPS.load(path, flag=f"--{flag}").backbone != backbone:
                raise UserError(f"--{flag}={path}: not an LPIPS-{backbone} file")
        if self.cfg.perceptual == "vgg16" and not self.cfg.vgg16_weights:
            raise UserError("config.vgg16_weights is required for perceptual=vgg16 (the default loss): "
                            "e.g. ../shared/weights/vgg16_relu2_2.npz, or set config.perceptual=lpips")  # fmt: skip
        gan = self.sections["gan"].gan
        PerceptualLoss.from_config(gan.perceptual, gan.lpips_weights, gan.vgg19_weights, gan.vgg16_weights,
                                   gan.get("perceptual_scales", (1,)))
        for folder in [f for f in (self.cfg.train_data + "," + self.cfg.eval_data).split(",") if f]:
            if not os.path.isdir(expand(folder)):
                raise UserError(f"no such data folder: {folder} (config.train_data / config.eval_data)")

    def _check_generator(self):
        spec = self.generator_spec()
        if spec.scale != self.cfg.scale:
            raise UserError(f"--config.generator={self.cfg.generator} is x{spec.scale}; "
                            f"the pipeline is x{self.cfg.scale}")  # fmt: skip

    # ---- the stages -------------------------------------------------------------
    def path(self, *parts):
        return os.path.join(self.workdir, *parts)

    def stages(self):
        baseline = self.cfg.baseline_discriminator
        stages = [] if self.cfg.generator else [
            Stage("generator search", self.path(GENERATOR_SEARCH, "pareto.json"), self.search_generator)
        ]
        stages += [
            Stage("PSNR training", self.path(PSNR, "model.keras"), self.train_psnr),
            Stage("discriminator search", self.path(DISCRIMINATOR_SEARCH, "front.json"), self.search_discriminator),
            Stage("perceptual + adversarial training (searched D)", self.path(GAN, "generator.keras"),
                  lambda: self.train_gan(self.searched_discriminator(), GAN)),  # fmt: skip
        ]
        if baseline:
            stages.append(Stage(f"perceptual + adversarial training ({baseline} D)",
                                self.path(f"{GAN}_{baseline}", "generator.keras"),
                                lambda: self.train_gan(baseline, f"{GAN}_{baseline}")))  # fmt: skip
        stages += [
            Stage("evaluation", self.path(EVALUATION, "scores.json"), self.evaluate),
            Stage(f"{self.cfg.quantize} export", self.path(EXPORT, "export.json"), self.export),
        ]
        return stages

    def run(self):
        """Runs every stage not yet done, one progress line each; returns the summary dict."""
        os.makedirs(self.workdir, exist_ok=True)
        stages = self.stages()
        for k, stage in enumerate(stages, 1):
            where = os.path.relpath(stage.output, self.workdir)
            if os.path.exists(stage.output):
                self.log(f"[{k}/{len(stages)}] {stage.title}: done ({where})")
                continue
            self.log(f"[{k}/{len(stages)}] {stage.title} ...")
            start = time.time()
            stage.run()
            self.log(f"[{k}/{len(stages)}] {stage.title}: finished in {_duration(time.time() - start)} ({where})")
        return self.summarize()

    def search_generator(self):
        from tfsr.search.run import run_search

        rows = run_search(self.sections["generator_search"], self.path(GENERATOR_SEARCH))
        if rows is None:
            raise UserError("this process is a keras-tuner worker; run tfsr-tpsr as the chief (or alone)")
        if not rows:
            os.remove(self.path(GENERATOR_SEARCH, "pareto.json"))  # not done: nothing to train
            raise UserError("the generator search found no architecture within its constraints "
                            "(generator_search.search.max_params / max_mult_adds / min_psnr); loosen them or run "
                            "more trials")  # fmt: skip

    def generator_spec(self):
        """`config.generator`, or the best-PSNR feasible member of the generator search's front."""
        from tfsr.arch import ArchSpec
        from tfsr.arch.spec import SpecError

        if self.cfg.generator:
            try:
                return ArchSpec.load(self.cfg.generator)
            except SpecError as e:  # it names the file; this names the setting
                raise UserError(f"--config.generator: {e}") from None
        top = sorted(glob.glob(self.path(GENERATOR_SEARCH, "top", "1_trial_*.json")))
        if not top:
            raise UserError(f"{self.path(GENERATOR_SEARCH)} has no top/1_trial_*.json; delete pareto.json to re-run")
        spec = ArchSpec.load(top[0])
        spec.name = f"tpsr_x{spec.scale}_searched"
        return spec

    def train_psnr(self):
        from tfsr.train import TrainingDiverged
        from tfsr.train.from_config import trainer_from_config

        trainer = trainer_from_config(self.sections["psnr"], self.generator_spec(), self.path(PSNR))
        try:
            trainer.fit()
        except TrainingDiverged as e:
            raise UserError(str(e)) from None

    def _gan_inputs(self, section):
        from tfsr.gan.setup import gan_inputs

        return gan_inputs(section, self.path(PSNR, "model.keras"))

    def search_discriminator(self):
        from tfsr.gan.search import run_discriminator_search

        section = self.sections["discriminator_search"]
        rows = run_discriminator_search(section, self.path(DISCRIMINATOR_SEARCH), self._gan_inputs(section))
        if rows is None:
            raise UserError("this process is a keras-tuner worker; run tfsr-tpsr as the chief (or alone)")

    def searched_discriminator(self):
        """The lowest-LPIPS member of the discriminator search's front."""
        top = sorted(glob.glob(self.path(DISCRIMINATOR_SEARCH, "top", "1_trial_*.json")))
        if not top:
            raise UserError(f"{self.path(DISCRIMINATOR_SEARCH)}: no trial completed; delete front.json to re-run")
        return top[0]

    def train_gan(self, discriminator, stage_dir):
        from tfsr.gan.setup import gan_trainer
        from tfsr.train import TrainingDiverged

        section = self.sections["gan"]
        trainer = gan_trainer(section, self._gan_inputs(section), discriminator, self.path(stage_dir))
        try:
            trainer.fit()
        except TrainingDiverged as e:
            raise UserError(f"{stage_dir}: {e}") from None

    def models(self):
        """`{name: model path}` of the generators to score and ship, in table order."""
        found = {"PSNR-trained": self.path(PSNR, "model.keras"), "GAN, searched D": self.path(GAN, "generator.keras")}
        if self.cfg.baseline_discriminator:
            found[f"GAN, {self.cfg.baseline_discriminator} D"] = self.path(
                f"{GAN}_{self.cfg.baseline_discriminator}", "generator.keras"
            )
        return found

    def evaluate(self):
        from tfsr import samples
        from tfsr.gan.report import perceptual_metrics, score_models, write_crops, write_json
        from tfsr.inference import BicubicUpscaler, load_upscaler
        from tfsr.perceptual import LPIPS

        scale = self.cfg.scale
        lpips = [LPIPS.load(p) for p in (self.cfg.lpips_weights, self.cfg.lpips_squeeze_weights) if p]
        upscalers = {"bicubic": BicubicUpscaler(scale)}
        upscalers.update({name: load_upscaler(path, scale) for name, path in self.models().items()})
        sets = [f for f in self.cfg.eval_data.split(",") if f] or [samples.VAL_DIR]  # load_eval_set expands $TFSR_DATA
        scores, pairs = score_models(upscalers, sets, scale, perceptual_metrics(lpips, scale))
        os.makedirs(self.path(EVALUATION), exist_ok=True)
        write_crops(upscalers, pairs, self.path(EVALUATION, "crops.png"))
        write_json(scores, self.path(EVALUATION, "scores.json"))

    def export(self):
        from tfsr import samples
        from tfsr.data.evalsets import load_eval_set
        from tfsr.data.pipeline import PatchDataset
        from tfsr.export.exporter import export
        from tfsr.gan.report import write_json
        from tfsr.runs import load_trained, spec_for_model

        source = self.path(GAN, "generator.keras")
        spec = spec_for_model(source)
        section = self.sections["psnr"]
        calibration = PatchDataset(section.train_data or samples.TRAIN_DIR, spec.scale, 24, 16, color="rgb", seed=0)
        val = load_eval_set(section.val_data or samples.VAL_DIR, spec.scale)
        os.makedirs(self.path(EXPORT), exist_ok=True)
        out = self.path(EXPORT, f"generator_{self.cfg.quantize}.tflite")
        report = export(load_trained(source, spec), spec, "tflite", out, quantize=self.cfg.quantize,
                        calibration=self.cfg.calibration, train_data=calibration, val_pairs=val,
                        log=self.log)  # fmt: skip
        write_json({"file": out, "bytes": os.path.getsize(out), "lines": report.lines()}, self.path(EXPORT, "export.json"))

    # ---- the summary ------------------------------------------------------------
    def summarize(self):
        """Prints the final table and writes WORKDIR/summary.json; returns it."""
        import json

        from tfsr.arch import count
        from tfsr.config import parse_size
        from tfsr.gan.report import format_scores, write_json

        spec = self.generator_spec()
        height, width = parse_size(self.cfg.generator_search.search.lr_size, "lr_size")
        cost = count(spec, (height, width))
        with open(self.path(EVALUATION, "scores.json")) as f:
            scores = json.load(f)
        with open(self.path(EXPORT, "export.json")) as f:
            exported = json.load(f)
        costs = {name: (cost.params, cost.mult_adds) for name in self.models()}
        self.log(f"\n{spec.name}: {cost.params:,} params, {cost.mult_adds / 1e9:.2f}G mult-adds at {width}x{height} LR")
        self.log(format_scores(scores, costs))
        self.log("shipped (GAN, searched D): " + "; ".join(line.split(":", 1)[1].strip() for line in exported["lines"]
                                                        if line.startswith(("exported", "size", "PSNR"))))  # fmt: skip
        summary = {"generator": spec.to_dict(), "lr_size": [height, width], "params": cost.params,
                   "mult_adds": cost.mult_adds, "scores": scores, "export": exported,
                   "models": self.models()}  # fmt: skip
        write_json(summary, self.path("summary.json"))
        return summary


def _duration(seconds):
    minutes, seconds = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"
