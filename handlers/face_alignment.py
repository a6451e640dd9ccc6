"""Crop alignment: warp a detected face so its five MTCNN landmarks land where FER2013's faces have them.

MTCNN's boxes are taller than FER2013's crops and framed differently, and fer's square-box crop tilts
and scales with the box; a classifier trained on FER2013 loses accuracy on such crops. Mapping the
landmarks onto the training framing with a similarity transform (rotation, uniform scale, shift; no
shear, so faces keep their proportions) gives the classifier the framing it learned.
"""

from __future__ import annotations

import cv2
import numpy as np

# Median MTCNN landmark positions on FER2013 training faces, in the 48×48 crop's pixels: left eye,
# right eye, nose, mouth left, mouth right (`python -m training.measure_face_template`, 1,415 of
# 1,500 faces found; interquartile ranges ≈ ±1.5 px).
FER2013_LANDMARKS_48 = np.array([(14.82, 18.32), (33.02, 17.96), (23.91, 28.27), (16.36, 37.58), (31.72, 37.25)])
TEMPLATE_SIDE = 48
# Warp at this multiple of the output size, then area-downsample: a direct warp from a large face to
# 48 px would alias (warpAffine has no area filter); FER2013's crops were area-reduced too.
OVERSAMPLE = 4


def similarity_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Least-squares rotation + uniform scale + translation taking `source` points onto `target`
    (Umeyama 1991, reflection excluded). Returns the 2×3 matrix cv2.warpAffine takes."""
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    src, dst = source - source_mean, target - target_mean
    covariance = dst.T @ src / len(source)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1, 1] = -1
    rotation = u @ sign @ vt
    variance = (src ** 2).sum() / len(source)
    scale = float(np.trace(np.diag(singular) @ sign) / variance) if variance > 0 else 1.0
    translation = target_mean - scale * rotation @ source_mean
    return np.hstack([scale * rotation, translation[:, None]])


def align_face(gray: np.ndarray, landmarks: np.ndarray, size: int) -> np.ndarray:
    """(size, size) float32 face in [-1, 1] from a gray image and the face's (5, 2) landmarks
    (x, y in that image's pixels). Pixels outside the image repeat its edge."""
    work_side = size * OVERSAMPLE
    # Pixel centres sit on integer coordinates (OpenCV's convention): the centre of output pixel i covers
    # work pixels OVERSAMPLE*i … OVERSAMPLE*i + OVERSAMPLE - 1, whose mean is the offset below.
    template = FER2013_LANDMARKS_48 * (size / TEMPLATE_SIDE) * OVERSAMPLE + (OVERSAMPLE - 1) / 2
    matrix = similarity_transform(np.asarray(landmarks, dtype=np.float64), template)
    warped = cv2.warpAffine(gray, matrix, (work_side, work_side), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE)
    face = cv2.resize(warped, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32)
    return (face / 255.0 - 0.5) * 2.0
