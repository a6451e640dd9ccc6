"""The detector-crop benchmark's rule for "the detector found the pasted face"."""

from __future__ import annotations

from benchmarks.boxes import iou, same_face

PASTED = (100, 100, 160, 160)  # a FER2013 crop pasted at 160 px


def test_an_overlapping_box_is_the_pasted_face() -> None:
    assert iou(PASTED, (110, 95, 150, 175)) >= 0.3 and same_face(PASTED, (110, 95, 150, 175))


def test_a_face_filling_half_its_crop_or_boxed_whole_past_a_tight_crop_is_found() -> None:
    half = (150, 160, 75, 85)  # centred, 0.5 of the crop: IoU 0.25
    whole = (20, 10, 330, 350)  # MTCNN boxes the head a brow-to-chin crop cut off: IoU 0.22
    for box in (half, whole):
        assert iou(PASTED, box) < 0.3 and same_face(PASTED, box)


def test_a_small_box_in_the_crop_or_a_box_beside_it_is_not_the_face() -> None:
    watermark = (200, 150, 47, 60)  # a detection on text inside the crop, near its middle: 0.37 of its side
    beside = (300, 120, 140, 140)  # the same size, but centred outside the face's middle third
    assert not same_face(PASTED, watermark) and not same_face(PASTED, beside)
