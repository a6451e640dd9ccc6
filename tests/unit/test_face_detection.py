"""The second look's geometry and its agreement rule, without running MTCNN."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from handlers.face_detection import RawDetection, View, _same_face

# A face in a 400×300 photo: eyes, nose, mouth corners as MTCNN orders them (image-left first).
LANDMARKS = np.array([[170.0, 120.0], [230.0, 120.0], [200.0, 150.0], [178.0, 180.0], [222.0, 180.0]])
CORNERS = np.array([150.0, 90.0, 250.0, 210.0])


def _in_view(view: View, width: int, height: int) -> RawDetection:
    """What MTCNN would report in the view for the face above: its landmarks carried into the view, with a
    mirrored face's eyes and mouth corners re-ordered image-left first, as MTCNN reports them."""
    matrix = view.matrix(width, height)
    landmarks = LANDMARKS @ matrix[:, :2].T + matrix[:, 2]
    if view.mirrored:
        landmarks = landmarks[[1, 0, 2, 4, 3]]
    x1, y1, x2, y2 = CORNERS
    corners = np.array([(x1, y1), (x2, y1), (x1, y2), (x2, y2)]) @ matrix[:, :2].T + matrix[:, 2]
    return RawDetection(np.concatenate([corners.min(axis=0), corners.max(axis=0)]), 0.99, landmarks)


@pytest.mark.parametrize("view", [View(0, False, 1.0), View(30, False, 1.0), View(-45, True, 0.5),
                                  View(15, True, 0.8)])
def test_a_face_found_in_any_view_maps_back_to_the_photo_with_landmarks_in_mtcnn_order(view: View) -> None:
    width, height = 400, 300
    back = view.to_photo(_in_view(view, width, height), width, height)
    assert np.allclose(back.landmarks, LANDMARKS, atol=1e-6)
    # The box comes back as the bounding box of the turned one: it contains the face's box.
    assert back.corners[0] <= CORNERS[0] + 1e-6 and back.corners[1] <= CORNERS[1] + 1e-6
    assert back.corners[2] >= CORNERS[2] - 1e-6 and back.corners[3] >= CORNERS[3] - 1e-6


def test_a_view_renders_the_photo_the_way_its_matrix_maps_points() -> None:
    photo = np.zeros((300, 400, 3), dtype=np.uint8)
    cv2.circle(photo, (100, 60), 6, (255, 255, 255), -1)
    view = View(30, True, 0.5)
    rendered = view.render(photo)
    assert rendered.shape == (150, 200, 3)
    x, y = np.array([100.0, 60.0]) @ view.matrix(400, 300)[:, :2].T + view.matrix(400, 300)[:, 2]
    ys, xs = np.nonzero(rendered[..., 0] > 128)
    assert abs(xs.mean() - x) < 1.0 and abs(ys.mean() - y) < 1.0


def test_two_views_agree_on_one_face_but_not_on_faces_apart() -> None:
    face = RawDetection(CORNERS, 0.99, LANDMARKS)
    nudged = RawDetection(CORNERS + 4, 0.97, LANDMARKS + 4)
    elsewhere = RawDetection(CORNERS + 60, 0.97, LANDMARKS + 60)
    assert _same_face(face, nudged) and _same_face(nudged, face)
    assert not _same_face(face, elsewhere)


def test_images_thinner_than_the_smallest_face_have_no_face_in_every_look() -> None:
    import torch

    from handlers.emotion_handler import DEFAULTS
    from handlers.face_detection import FaceDetector

    detector = FaceDetector({**DEFAULTS, "second_look": True, "cascade_look": True}, torch.device("cpu"))
    rng = np.random.default_rng(0)
    # 19 px tall: under MTCNN's pyramid for the first pass; 800×30: 384×14 in the second look.
    thin, wide = (rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in [(19, 200), (30, 800)])
    assert detector.detect([thin, wide, thin]) == [[], [], []]
