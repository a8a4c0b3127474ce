#!/usr/bin/python3
"""make_inputs.py — the golden inputs for tests/test_onnx.c.

Face crops from face-api's demo/sample1..6.jpg (npm @vladmandic/face-api,
MIT), preprocessed for each model as docs/MODELS.md describes, written as
float16 .npy (NCHW, batch 2 = two faces) to keep the committed files small;
gen.js and the C test both widen them to float32 the same way, so the
reference runtime and pasalista see identical inputs.

    /usr/bin/python3 tools/golden/onnx/make_inputs.py DEMO_DIR OUT_DIR
"""
import os
import sys

import numpy as np
from PIL import Image

# (centre x, centre y, side) of one face per sample, in original pixels
FACES = {1: (510, 470, 260), 2: (1050, 360, 260), 3: (1180, 330, 260),
         4: (800, 215, 240), 5: (480, 980, 280), 6: (330, 600, 260)}
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def crop(demo, i, size):
    cx, cy, s = FACES[i]
    im = Image.open(os.path.join(demo, f"sample{i}.jpg")).convert("RGB")
    box = (cx - s // 2, cy - s // 2, cx + s // 2, cy + s // 2)
    return np.asarray(im.crop(box).resize((size, size), Image.BILINEAR), dtype=np.float32)


def whole(demo, i, w, h):
    im = Image.open(os.path.join(demo, f"sample{i}.jpg")).convert("RGB")
    return np.asarray(im.resize((w, h), Image.BILINEAR), dtype=np.float32)


def nchw(hwc):
    return hwc.transpose(2, 0, 1)


def models(demo):
    """name -> list of per-face CHW float32 arrays."""
    rgb = lambda a: nchw(a)
    bgr = lambda a: nchw(a[:, :, ::-1])
    return {
        "fr_feature": [rgb((crop(demo, i, 112) - 127) / 128) for i in (1, 2)],
        "fr_detect": [bgr((whole(demo, i, 320, 240) - 127) / 128) for i in (1, 6)],
        "fr_landmark": [np.asarray(Image.fromarray(crop(demo, i, 64).astype(np.uint8)).convert("L"),
                                   dtype=np.float32)[None] / 256 for i in (3, 4)],
        "fr_gender": [rgb((crop(demo, i, 64) / 255 - MEAN) / STD) for i in (5, 6)],
        "fr_age": [rgb((crop(demo, i, 64) / 255 - MEAN) / STD) for i in (1, 3)],
        "fr_liveness": [rgb(crop(demo, i, 128)) for i in (2, 4)],
        "facenet": [rgb((crop(demo, i, 160) - 127.5) / 128) for i in (5, 6)],
        "iresnet50": [rgb(crop(demo, i, 112)) for i in (1, 6)],
    }


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    demo, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for name, faces in models(demo).items():
        x = np.stack(faces).astype(np.float16)
        np.save(os.path.join(out, name + "_in.npy"), x)
        print(name, x.shape)


if __name__ == "__main__":
    main()
