"""Optuna's samplers driving tfsr's hypermodel and proxy (a benchmark peer)."""

import keras_tuner
import pytest

from test_search import tiny_config
from tfsr.arch import ArchSpec, count
from tfsr.search.run import make_tuner

optuna = pytest.importorskip("optuna", reason="Optuna is a benchmark extra (pip install optuna)")


@pytest.mark.parametrize("sampler", ["nsga2", "tpe"])
def test_optuna_samples_the_hypermodels_space_under_the_ceilings_and_resumes(tmp_path, sampler):
    from tfsr.search.optuna_peer import WORST_PSNR, run_optuna

    ceiling = 15e9  # seed 0 samples 20.4G, 19.7G, 13.2G: two refused, one trained
    tuner = make_tuner(tiny_config(max_mult_adds=ceiling), str(tmp_path / "tuner"))
    # One trained candidate: as ParetoOracle's trials, refused proposals do not count.
    study = run_optuna(tuner, str(tmp_path / "optuna"), n_trials=1, sampler=sampler, log=lambda m: None)
    trials = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(trials) == 3
    for t in trials:
        spec = ArchSpec.from_dict(t.user_attrs["spec"])
        # keras-tuner hyperparameters with the Optuna trial's values give the same spec.
        hp = keras_tuner.HyperParameters()
        tuner.hypermodel.spec_from_hp(hp)
        hp.values.update(t.params)
        same = tuner.hypermodel.spec_from_hp(hp)
        same.name = spec.name
        assert same.to_dict() == spec.to_dict()
        psnr, mult_adds = t.values
        assert mult_adds == count(spec, tuner.oracle.lr_size).mult_adds
        if mult_adds <= ceiling:  # trained and scored on the validation images
            assert t.user_attrs["constraint"] == [0.0] and 20 < psnr < 50
        else:  # not trained
            assert t.user_attrs["constraint"][0] > 0 and psnr == WORST_PSNR
    assert {t.values[1] <= ceiling for t in trials} == {True, False}  # both paths taken
    # The study is stored in WORKDIR/optuna.db: asking for 2 trains one more.
    again = run_optuna(tuner, str(tmp_path / "optuna"), n_trials=2, sampler=sampler, log=lambda m: None)
    scored = [t for t in again.trials if t.state == optuna.trial.TrialState.COMPLETE and t.user_attrs["constraint"] == [0.0]]
    assert len(scored) == 2
