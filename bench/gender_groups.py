#!/usr/bin/python3
"""bench/gender_groups.py — gender estimates on the faces of the shared
GROUP photos (small faces, as in a class photo): each model's faces from
`pasalista gender predict --json` are matched to the annotated boxes of
../shared/faces/manifest.json (IoU >= 0.4) and scored against the
identity's label in gender.csv.

    /usr/bin/python3 bench/gender_groups.py [SHARED_DIR] [MODEL...]
"""
import csv, json, os, subprocess, sys

shared = sys.argv[1] if len(sys.argv) > 1 else "../shared"
models = sys.argv[2:] or ["faceres", "face-api", "ssrnet", "fr-gender"]
faces_dir = os.path.join(shared, "faces")
manifest = json.load(open(os.path.join(faces_dir, "manifest.json")))
label = {}
for row in csv.DictReader(open(os.path.join(faces_dir, "gender.csv"))):
    label[row["path"].split("/")[1]] = row["gender"]

def iou(a, b):
    ax1, ay1, ax2, ay2 = a
    bx1, by1, bx2, by2 = b
    iw = max(0, min(ax2, bx2) - max(ax1, bx1))
    ih = max(0, min(ay2, by2) - max(ay1, by1))
    inter = iw * ih
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
    return inter / union if union > 0 else 0

for model in models:
    right = total = missed = 0
    sizes = []
    for name, g in sorted(manifest["groups"].items()):
        path = os.path.join(faces_dir, "groups", g["image"])
        if not os.path.exists(path):
            continue
        out = subprocess.run(["build/pasalista", "gender", "predict", path, "--model", model,
                              "--json", "--threads", "2"], capture_output=True, text=True)
        found = json.loads(out.stdout)["photos"][0]["faces"] if out.stdout else []
        for f in g["faces"]:
            who = f.get("identity")
            if who not in label:
                continue
            x, y, w, h = f["bbox"]
            best = max(found, key=lambda d: iou(d["box"], (x, y, x + w, y + h)), default=None)
            if not best or iou(best["box"], (x, y, x + w, y + h)) < 0.4:
                missed += 1
                continue
            total += 1
            sizes.append(w)
            right += best["gender_estimate"] == label[who]
    sizes.sort()
    med = sizes[len(sizes) // 2] if sizes else 0
    print(f"{model:10s} {right}/{total} = {right / max(total, 1):.3f} on group-photo faces "
          f"(median box width {med}px; {missed} annotated faces not detected)")
