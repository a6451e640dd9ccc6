"""Emotion version 2: our FER2013 VGG, served from model_store/emotion-2.3.0.mar with landmark-aligned crops,
and the switch between versions 1 and 2."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from archives.loader import LoadedArchive, archive_file_name
from handlers.face_alignment import FER2013_LANDMARKS_48, align_face, similarity_transform
from handlers.face_classifiers import ExpressionVGGClassifier, MiniXceptionClassifier
from handlers.face_detection import FaceDetector
from launcher.stack import served_versions
from networks.expression_vgg import ExpressionVGG, load_expression_vgg, save_expression_vgg
from networks.mini_xception import EMOTION_LABELS
from orchestrator.core.settings import Settings
from orchestrator.inference.embedded import EmbeddedBackend
from tests.support import images

REPO_ROOT = Path(__file__).resolve().parents[2]
MODEL_DIR = REPO_ROOT / "models" / "face-expression-vgg"


@pytest.fixture
def archive(emotion_v2_archive: LoadedArchive) -> LoadedArchive:
    return emotion_v2_archive


def service(archive: LoadedArchive) -> Any:
    return archive.module._service  # type: ignore[attr-defined]


def test_version_2_archive_serves_the_committed_weights(archive: LoadedArchive) -> None:
    assert (archive.name, archive.version) == ("emotion", "2.3.0")
    classifier = service(archive).classifier
    assert isinstance(classifier, ExpressionVGGClassifier)
    assert classifier.input_size == 48
    committed = load_file(str(MODEL_DIR / "model.safetensors"))
    served = classifier.model.state_dict()
    assert committed.keys() == served.keys()
    assert all(torch.equal(committed[name], served[name].cpu()) for name in committed)


def test_saved_network_round_trips(tmp_path: Path) -> None:
    model = ExpressionVGG().eval()
    save_expression_vgg(model, tmp_path)
    loaded = load_expression_vgg(tmp_path)
    faces = torch.rand(3, 1, 48, 48) * 2 - 1
    with torch.inference_mode():
        assert torch.allclose(model(faces), loaded(faces))


def test_a_model_with_another_label_order_is_refused(tmp_path: Path) -> None:
    save_expression_vgg(ExpressionVGG(), tmp_path)
    config = (tmp_path / "config.json").read_text().replace('"angry"', '"furious"')
    (tmp_path / "config.json").write_text(config)
    with pytest.raises(ValueError, match="labels"):
        load_expression_vgg(tmp_path)


def test_version_2_reads_the_smiling_astronaut(archive: LoadedArchive) -> None:
    answers, statuses = archive.run([images.astronaut_bytes(), images.coffee_bytes()])
    assert statuses == {}
    face_answer, no_face = answers
    assert [f["top_emotion"] for f in face_answer["faces"]] == ["happy"]
    assert math.isclose(sum(face_answer["faces"][0]["emotions"].values()), 1.0, abs_tol=1e-4)
    assert face_answer["model"] == {"name": "emotion", "version": "2.3.0"}
    assert no_face["faces"] == []


def _fer_like_face() -> np.ndarray:
    """A 48×48 gray face framed like FER2013: the astronaut aligned by her landmarks (any texture works
    for the geometry test; a real face keeps it honest)."""
    gray = cv2.imread(str(images.ASTRONAUT), cv2.IMREAD_GRAYSCALE)
    assert gray is not None
    return cv2.resize(gray[20:230, 150:360], (48, 48), interpolation=cv2.INTER_AREA)


def test_alignment_undoes_a_known_rotation_scale_and_shift() -> None:
    face = _fer_like_face()
    angle, scale, shift = math.radians(17), 5.0, np.array([130.0, 60.0])
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    forward = np.hstack([scale * rotation, shift[:, None]])  # 48-px frame → a 500-px photo
    photo = cv2.warpAffine(face, forward, (500, 500), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    landmarks = FER2013_LANDMARKS_48 @ forward[:, :2].T + shift
    aligned = align_face(photo, landmarks, 48)
    expected = (face.astype(np.float32) / 255.0 - 0.5) * 2.0
    interior = np.s_[4:-4, 4:-4]
    assert np.abs(aligned[interior] - expected[interior]).mean() < 0.06


def test_similarity_transform_is_exact_on_exact_points() -> None:
    rng = np.random.default_rng(3)
    points = rng.uniform(0, 100, size=(5, 2))
    angle, scale = 0.4, 1.7
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    moved = points @ (scale * rotation).T + [3.0, -8.0]
    matrix = similarity_transform(points, moved)
    assert np.allclose(points @ matrix[:, :2].T + matrix[:, 2], moved, atol=1e-9)


def test_a_detected_face_is_aligned_to_the_training_framing(archive: LoadedArchive) -> None:
    """The astronaut's aligned crop, shown to MTCNN again (upscaled), has its landmarks where FER2013's
    faces have them."""
    handler = service(archive)
    crops, owners = handler.face_crops([handler.preprocess_one(images.astronaut_bytes())])
    assert crops.shape == (1, 48, 48) and owners[0].image == 0
    crop = crops[0]
    upscale, pad = 4, 48
    big = cv2.resize(((crop + 1) * 127.5).astype(np.uint8), (48 * upscale, 48 * upscale),
                     interpolation=cv2.INTER_CUBIC)
    big = cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    with torch.inference_mode():
        boxes, _, points = handler.detector.mtcnn.detect(cv2.cvtColor(big, cv2.COLOR_GRAY2RGB), landmarks=True)
    assert boxes is not None
    found = (np.asarray(points[0], dtype=np.float64) - pad + 0.5) / upscale - 0.5
    assert np.abs(found - FER2013_LANDMARKS_48).max() < 3.0, found


def test_settings_choose_the_served_version(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().model_versions["emotion"] == "2.3.0"
    monkeypatch.setenv("MUSEAIKA_MODEL_VERSIONS", '{"emotion": "1.0.0"}')
    assert Settings().model_versions == {"emotion": "1.0.0"}
    assert served_versions({}) == {"emotion": "1.0.0"}  # what a launched TorchServe loads
    assert archive_file_name("emotion", "1.0.0") == "emotion.mar"
    assert archive_file_name("emotion", "2.3.0") == "emotion-2.3.0.mar"


@pytest.mark.parametrize(("version", "classifier"), [("1.0.0", MiniXceptionClassifier),
                                                     ("2.3.0", ExpressionVGGClassifier)])
def test_the_embedded_backend_serves_the_version_settings_name(tmp_path: Path, version: str,
                                                                classifier: type) -> None:
    settings = Settings(model_versions={"emotion": version})
    backend = EmbeddedBackend(settings.model_store, settings.torchserve_config, tmp_path, ["emotion"],
                              settings.model_versions)

    async def ask() -> dict[str, Any]:
        await backend.start()
        try:
            return await backend.predict("emotion", images.astronaut_bytes())
        finally:
            await backend.close()

    answer = asyncio.run(ask())
    assert answer["model"] == {"name": "emotion", "version": version}
    assert answer["faces"][0]["top_emotion"] == "happy"
    assert set(answer["faces"][0]["emotions"]) == set(EMOTION_LABELS)


def test_second_look_finds_a_face_tilted_past_mtcnn_and_aligns_it_upright(archive: LoadedArchive) -> None:
    """Tilted 60°, the astronaut is invisible to MTCNN's first pass; the second look (rotated views) finds her,
    and her landmarks mapped back to the photo give the same upright crop as the untilted photo."""
    handler = service(archive)
    bgr = cv2.imread(str(images.ASTRONAUT))
    assert bgr is not None
    height, width = bgr.shape[:2]
    tilt = cv2.getRotationMatrix2D((width / 2, height / 2), 60, 1.0)
    tilted = cv2.warpAffine(bgr, tilt, (width, height), borderMode=cv2.BORDER_REPLICATE)
    tilted_jpeg = cv2.imencode(".jpg", tilted, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()

    upright, rotated = (handler.preprocess_one(data) for data in (images.astronaut_bytes(), tilted_jpeg))
    with torch.inference_mode():
        first_pass = handler.detector.mtcnn.detect(rotated.rgb_for_detection)
    assert first_pass[0] is None or max(first_pass[1]) < handler.detector.min_score
    (upright_face,), (tilted_face,) = handler._detect([upright, rotated])
    assert tilted_face.score >= handler.settings["second_look_min_score"]

    crop_upright = handler.classifier.crop(upright.padded_gray, upright_face.box, upright_face.landmarks)
    crop_tilted = handler.classifier.crop(rotated.padded_gray, tilted_face.box, tilted_face.landmarks)
    assert np.abs(crop_upright - crop_tilted).mean() < 0.15
    coffee = Image.open(images.COFFEE)
    turned_coffee = images.encode(coffee.rotate(90, expand=True), "JPEG", quality=95)
    answers, _ = archive.run([tilted_jpeg, images.coffee_bytes(), turned_coffee])
    assert len(answers[0]["faces"]) == 1
    # The second look does not invent a face where there is none (at O-Net 0.7 the turned coffee had one).
    assert answers[1]["faces"] == [] and answers[2]["faces"] == []


def test_the_cascade_look_frames_a_face_as_mtcnn_does(archive: LoadedArchive) -> None:
    """Haar's box scored and regressed by O-Net lands on MTCNN's own box and landmarks for the astronaut, so an
    aligned crop from the cascade look is the crop the first pass would have made."""
    handler = service(archive)
    photo = handler.preprocess_one(images.astronaut_bytes())
    (mtcnn_face,) = handler.detector.detect([photo.rgb_for_detection])[0]
    (cascade_face,) = handler.detector.cascade_look.look(photo.rgb_for_detection)
    assert cascade_face.score >= handler.settings["cascade_min_score"]
    assert np.abs(cascade_face.corners - mtcnn_face.corners).max() < 4.0
    assert np.abs(cascade_face.landmarks - mtcnn_face.landmarks).max() < 3.0


def test_the_cascade_look_answers_only_when_both_mtcnn_looks_found_nothing(archive: LoadedArchive) -> None:
    """With a first pass that can keep nothing (score cut-off above 1) and no second look, the astronaut is found
    only with the cascade look on, and its crop is close to the normal pipeline's."""
    handler = service(archive)
    photo = handler.preprocess_one(images.astronaut_bytes())
    blind = {**handler.settings, "min_detection_score": 1.01, "second_look": False}
    assert FaceDetector({**blind, "cascade_look": False}, torch.device("cpu")).detect([photo.rgb_for_detection]) == [[]]
    (found,) = FaceDetector({**blind, "cascade_look": True}, torch.device("cpu")).detect([photo.rgb_for_detection])[0]
    ((usual,),) = handler._detect([photo])
    crop = handler.classifier.crop(photo.padded_gray, usual.box, found.landmarks / photo.detection_scale)
    usual_crop = handler.classifier.crop(photo.padded_gray, usual.box, usual.landmarks)
    assert np.abs(crop - usual_crop).mean() < 0.15  # the bound the second look's upright crop meets too


def test_a_missing_cascade_file_is_refused_at_load(archive: LoadedArchive) -> None:
    settings = {**service(archive).settings, "cascade_file": "haarcascade_no_such_face.xml"}
    with pytest.raises(FileNotFoundError, match="no Haar cascade"):
        FaceDetector(settings, torch.device("cpu"))


def test_an_unknown_test_time_augmentation_is_refused_at_load() -> None:
    with pytest.raises(ValueError, match="tta must be one of"):
        ExpressionVGGClassifier(ExpressionVGG(), torch.device("cpu"), 48, "flips")
