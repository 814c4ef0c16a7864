"""The BDT baseline is stored in a format that cannot run code when it is read."""

import json
import pickle
import zipfile

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from phenoflow.analyses.tagging.run import BASELINE_FEATURES, bdt_scores, train_bdt
from phenoflow.ml.data import load_tagging_split, substructure_column
from tests.conftest import ROOT
from tests.unit.test_resume import write_dataset

RAN: list[str] = []  # what a malicious file managed to run


def _record(what: str) -> str:
    RAN.append(what)
    return what


class Payload:
    """Pickles to a call of _record: what a tampered model file would do."""

    def __reduce__(self):
        return (_record, ("pickle payload",))


class Boom:
    """A type a crafted schema names; building it counts as running code."""

    def __init__(self, *args, **kwargs):
        _record("Boom.__init__")

    def __setstate__(self, state):
        _record("Boom.__setstate__")


@pytest.fixture(scope="module")
def bdt(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bdt")
    data = write_dataset(tmp / "data", sizes=(300, 60, 60))
    path = tmp / "models" / "bdt.skops"
    train_bdt(data, seed=3, output=path)
    return data, path


def _features(split):
    return np.stack([substructure_column(split, f) for f in BASELINE_FEATURES], axis=1)


def test_stored_scores_equal_in_memory_scores(bdt):
    data, path = bdt
    train = load_tagging_split(data / "train", "ca")
    clf = HistGradientBoostingClassifier(max_iter=200, early_stopping=True, random_state=3)
    clf.fit(_features(train), train["labels"])
    test = load_tagging_split(data / "test", "ca")
    expected = clf.predict_proba(_features(test))[:, 1]
    assert np.array_equal(bdt_scores(path, test), expected)


def test_stored_model_is_a_skops_zip_and_byte_identical_on_rerun(bdt, tmp_path):
    data, path = bdt
    assert zipfile.is_zipfile(path)
    assert not path.with_name(path.name + ".tmp").exists()
    again = tmp_path / "bdt.skops"
    train_bdt(data, seed=3, output=again)
    assert again.read_bytes() == path.read_bytes()


def test_pickle_renamed_to_skops_is_rejected_unrun(tmp_path):
    RAN.clear()
    fake = tmp_path / "bdt.skops"
    fake.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ValueError, match=r"bdt\.skops.*not a skops"):
        bdt_scores(fake, {"substructure": np.zeros((2, 20), np.float32)})
    assert RAN == []


def _craft(src, dst, node_module: str, node_class: str) -> None:
    """``src`` with its tree-predictor nodes retyped to ``node_module.node_class``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            blob = zin.read(info)
            if info.filename == "schema.json":
                text = blob.decode()
                assert "TreePredictor" in text
                text = text.replace(
                    '"sklearn.ensemble._hist_gradient_boosting.predictor"', json.dumps(node_module)
                ).replace('"TreePredictor"', json.dumps(node_class))
                blob = text.encode()
            zout.writestr(info, blob)


@pytest.mark.parametrize(
    ("module", "cls"), [("tests.unit.test_bdt_store", "Boom"), ("builtins", "eval")]
)
def test_untrusted_type_in_schema_is_rejected_unrun(bdt, tmp_path, module, cls):
    _, path = bdt
    RAN.clear()
    crafted = tmp_path / "bdt.skops"
    _craft(path, crafted, module, cls)
    with pytest.raises(ValueError, match=rf"bdt\.skops.*untrusted.*{module}\.{cls}"):
        bdt_scores(crafted, {"substructure": np.zeros((2, 20), np.float32)})
    assert RAN == []


def test_corrupt_file_names_the_file(tmp_path):
    bad = tmp_path / "bdt.skops"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("other.txt", "x")
    with pytest.raises(ValueError, match=r"bdt\.skops"):
        bdt_scores(bad, {"substructure": np.zeros((2, 20), np.float32)})


def test_bdt_model_is_named_skops_everywhere():
    smk = (ROOT / "rules/tagging.smk").read_text()
    assert smk.count("models/bdt.skops") == 2
    for sub in ("rules", "lib", "docs", "workflow_scripts", "config"):
        for f in (ROOT / sub).rglob("*"):
            if f.is_file() and f.suffix in (".smk", ".py", ".md", ".yaml"):
                assert "bdt.pkl" not in f.read_text(), f
    assert "bdt.pkl" not in (ROOT / "README.md").read_text()


def test_no_pickle_in_tagging_run():
    text = (ROOT / "lib/phenoflow/analyses/tagging/run.py").read_text()
    assert "import pickle" not in text
    assert "pickle.loads" not in text
