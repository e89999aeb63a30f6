"""The Python peer of `npm run bench`: the seed's /predict in Flask with PyTorch.

POST /predict with a multipart field "image" -> PIL: RGB, shorter side to 256, centre crop 224, ImageNet
normalisation -> torch.no_grad() ResNet50 -> {"success": true, "predictions": [{label, probability} x 5]}.

Environment:
  BENCH_STATE_DICT       the ResNet50 state dict (make_torch_resnet50.py writes it beside the ONNX Skiff serves)
  BENCH_LABELS           synset_words.txt (1000 lines), optional
  BENCH_TORCH_THREADS    torch intra-op threads per process (default 1)
  BENCH_LOAD_PER_REQUEST 1: build the model and load the weights in every request, as the seed did

Run: gunicorn -w 2 -b 127.0.0.1:PORT flask_torch:app   (from this folder), or python3 flask_torch.py PORT for
Flask's own threaded server (the seed's way).
"""
import io
import os
import sys

import torch
import torchvision
from flask import Flask, jsonify, request
from PIL import Image
from torchvision import transforms

STATE_DICT = os.environ["BENCH_STATE_DICT"]
LOAD_PER_REQUEST = os.environ.get("BENCH_LOAD_PER_REQUEST") == "1"
torch.set_num_threads(int(os.environ.get("BENCH_TORCH_THREADS", "1")))

PREPROCESS = transforms.Compose(
    [
        transforms.Resize(256),
        transforms.CenterCrop(224),
        transforms.ToTensor(),
        transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
    ]
)


def load_labels() -> list:
    path = os.environ.get("BENCH_LABELS")
    if not path:
        return [str(i) for i in range(1000)]
    with open(path, encoding="utf-8") as f:
        # The first name of each synset, spaces as underscores: the labels Skiff answers with.
        return [
            line.strip().split(" ", 1)[-1].split(",")[0].strip().replace(" ", "_")
            for line in f
            if line.strip()
        ]


def load_model() -> torch.nn.Module:
    model = torchvision.models.resnet50(weights=None)
    model.load_state_dict(torch.load(STATE_DICT, map_location="cpu"))
    return model.eval()


LABELS = load_labels()
MODEL = None if LOAD_PER_REQUEST else load_model()
app = Flask(__name__)


@app.get("/health")
def health():
    return jsonify({"ok": True})


@app.post("/predict")
def predict():
    upload = request.files.get("image")
    if upload is None:
        return jsonify({"success": False, "error": 'no multipart field "image"'}), 400
    image = Image.open(io.BytesIO(upload.read())).convert("RGB")
    batch = PREPROCESS(image).unsqueeze(0)
    model = load_model() if LOAD_PER_REQUEST else MODEL
    with torch.no_grad():
        probabilities = torch.softmax(model(batch)[0], dim=0)
    top = torch.topk(probabilities, 5)
    return jsonify(
        {
            "success": True,
            "predictions": [
                {"label": LABELS[i], "probability": float(p)}
                for p, i in zip(top.values.tolist(), top.indices.tolist())
            ],
        }
    )


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
