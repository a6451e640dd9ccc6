"""The text-emotion handler serves any save_pretrained sequence classifier, loaded from its .mar."""

from __future__ import annotations

from typing import Any

import pytest

from archives.loader import LoadedArchive, load_archive
from export_scripts.build_sentiment_archive import build
from tests.support.tiny_text_model import make_tiny_classifier

OTHER_LABELS = ("calm", "excited", "gloomy")


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> LoadedArchive:
    root = tmp_path_factory.mktemp("tiny")
    model_dir = make_tiny_classifier(root / "model", OTHER_LABELS)
    mar = build(model_dir, "tiny-sentiment", "0.0.1", root / "store", staging=root / "staging")
    loaded = load_archive(mar, root / "work")
    loaded.handle(None, loaded.context)
    return loaded




def test_any_classifier_is_served_with_its_own_labels(archive: LoadedArchive) -> None:
    (answer,), statuses = archive.run([b"i feel happy today"])
    assert statuses == {}
    assert tuple(answer["emotions"]) == OTHER_LABELS
    assert sum(answer["emotions"].values()) == pytest.approx(1.0, abs=1e-5)
    assert answer["top_emotion"] in OTHER_LABELS and answer["truncated"] is False
    assert answer["model"] == {"name": "tiny-sentiment", "version": "0.0.1"}


def test_dynamic_padding_micro_batches_and_truncation(archive: LoadedArchive,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    service = archive.module._service
    widths: list[int] = []
    original = service._pad

    def spy(rows: list[list[int]]) -> Any:
        padded = original(rows)
        widths.append(padded[0].shape[1])
        return padded

    monkeypatch.setattr(service, "_pad", spy)
    long_text = ("i feel very happy " * 40).encode()
    batch = [b"i am calm", b"so sad", long_text]
    answers, statuses = archive.run(batch)
    assert statuses == {}
    assert widths == [64], "one slice, padded to its longest (truncated) text"
    assert service.max_length == 64, "capped by the tiny model's 64 position embeddings"
    assert [a["truncated"] for a in answers] == [False, False, True]
    assert [a["tokens"] for a in answers] == [5, 4, 64]

    widths.clear()
    monkeypatch.setitem(service.settings, "micro_batch", 1)
    sliced, _ = archive.run(batch)
    assert widths == [4, 5, 64], "length-sorted slices, each padded only to its own longest"
    for one, other in zip(answers, sliced, strict=True):
        assert one["emotions"] == pytest.approx(other["emotions"], abs=1e-5), "padding never changes a score"


@pytest.mark.parametrize(("payload", "status", "reason"), [
    (b"\xff\xfe\xfa", 400, "UTF-8"),
    (b"   \n ", 422, "empty"),
    (b"bad \x00 byte", 400, "NUL"),
    (("a" * 5001).encode(), 413, "5000"),
])
def test_bad_text_fails_alone(archive: LoadedArchive, payload: bytes, status: int, reason: str) -> None:
    answers, statuses = archive.run([b"i feel happy", payload])
    assert statuses[1][0] == status and reason in answers[1]["error"]
    assert 0 not in statuses and answers[0]["top_emotion"] in OTHER_LABELS


@pytest.fixture(scope="module")
def multi_label_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, LoadedArchive]:
    """The same multi-label network served both ways: PyTorch, and ONNX Runtime (--runtime onnx)."""
    root = tmp_path_factory.mktemp("multi")
    model_dir = make_tiny_classifier(root / "model", OTHER_LABELS, seed=3, thresholds=[0.5, 0.0, 1.0])
    served = {}
    for runtime in ("torch", "onnx"):
        mar = build(model_dir, f"tiny-{runtime}", "0.0.2", root / "store", staging=root / f"staging-{runtime}",
                    runtime=runtime)
        loaded = load_archive(mar, root / "work")
        loaded.handle(None, loaded.context)
        served[runtime] = loaded
    return served


def test_a_multi_label_model_answers_every_label_over_its_threshold(
        multi_label_dirs: dict[str, LoadedArchive]) -> None:
    (answer,), _ = multi_label_dirs["torch"].run([b"i feel happy and sad today"])
    scores = answer["label_scores"]
    assert all(0 < s < 1 for s in scores.values()) and sum(scores.values()) != pytest.approx(1.0)
    assert sum(answer["emotions"].values()) == pytest.approx(1.0, abs=1e-5), "the mood's weights still sum to 1"
    # thresholds: calm 0.5, excited 0.0 (always passes), gloomy 1.0 (never, unless it is the top label)
    expected = {"excited", answer["top_emotion"]} | ({"calm"} if scores["calm"] >= 0.5 else set())
    assert set(answer["labels"]) == expected
    assert answer["labels"] == sorted(answer["labels"], key=scores.__getitem__, reverse=True)


def test_the_onnx_runtime_answers_as_pytorch_does(multi_label_dirs: dict[str, LoadedArchive]) -> None:
    onnx_service = multi_label_dirs["onnx"].module._service
    assert type(onnx_service.network).__name__ == "OnnxNetwork"
    assert type(multi_label_dirs["torch"].module._service.network).__name__ == "TorchNetwork"
    batch = [b"i am calm", b"so very sad today", ("i feel very happy " * 40).encode(), b"it was not the angry one"]
    torch_answers, _ = multi_label_dirs["torch"].run(batch)
    onnx_answers, _ = multi_label_dirs["onnx"].run(batch)
    for ours, theirs in zip(onnx_answers, torch_answers, strict=True):
        assert ours["label_scores"] == pytest.approx(theirs["label_scores"], abs=1e-5)
        assert ours["labels"] == theirs["labels"] and ours["truncated"] == theirs["truncated"]
