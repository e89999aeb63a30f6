"""Random-weight ResNet50 (torchvision architecture, fixed seed) for `npm run bench`, written twice with the
SAME weights: the PyTorch state dict the Flask peers load, and its ONNX export (opset 13, dynamic batch) that
Skiff serves. Random weights keep the comparison about speed: the compute is the real ResNet50's.

Usage: /usr/bin/python3 make_torch_resnet50.py <out-dir>   (writes resnet50.pt and resnet50.onnx)
"""
import os
import sys

import torch
import torchvision

SEED = 50


def main(out_dir: str) -> None:
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(SEED)
    model = torchvision.models.resnet50(weights=None).eval()
    state_path = os.path.join(out_dir, "resnet50.pt")
    onnx_path = os.path.join(out_dir, "resnet50.onnx")
    torch.save(model.state_dict(), state_path + ".tmp")
    example = torch.randn(1, 3, 224, 224)
    torch.onnx.export(
        model,
        example,
        onnx_path + ".tmp",
        opset_version=13,
        input_names=["data"],
        output_names=["logits"],
        dynamic_axes={"data": {0: "batch"}, "logits": {0: "batch"}},
        do_constant_folding=True,
    )
    # Renamed last, so a half-written pair is never taken for a finished one.
    os.replace(state_path + ".tmp", state_path)
    os.replace(onnx_path + ".tmp", onnx_path)
    print(f"wrote {state_path} and {onnx_path}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
