"""A realistic little workspace for GUI tests and screenshots: several types, artifacts with
many versions, and a lineage chain raw data → preprocessing → training → evaluation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from contract_helpers import Logger

from desktop_app.backends.protocol import Backend
from desktop_app.core.records import VersionInfo

PROJECT = "vision"


@dataclass
class Workspace:
    """The ids a test needs to find what ``seed_workspace`` made."""

    versions: dict[str, VersionInfo] = field(default_factory=dict)  # "name:vN" -> version
    runs: dict[str, str] = field(default_factory=dict)  # job label -> run id


def seed_workspace(backend: Backend, *, raw_versions: int = 6) -> Workspace:
    log = Logger(backend)
    ws = Workspace()

    def keep(info: VersionInfo) -> VersionInfo:
        ws.versions[f"{info.name}:{info.version}"] = info
        return info

    for i in range(raw_versions):
        upload = backend.create_run(PROJECT, job_type="upload", name=f"upload-{i}")
        files = {f"images/{k:03d}.png": bytes([i, k]) * 40 for k in range(3 + i)} | {
            "labels.csv": ("file,label\n" + f"{i}.png,cat\n" * (i + 1)).encode()
        }
        keep(
            log(
                PROJECT,
                "raw-images",
                files,
                description=f"Camera dump {i}",
                metadata={"source": "camera-a", "count": len(files), "split": {"train": 0.8}},
                run_id=upload.id,
            )
        )
        backend.finish_run(upload.id)
    raw = ws.versions[f"raw-images:v{raw_versions - 1}"]
    prep = backend.create_run(PROJECT, job_type="preprocess", name="prep-resize")
    ws.runs["preprocess"] = prep.id
    backend.use_version(prep.id, raw.id)
    for i in range(2):
        keep(
            log(
                PROJECT,
                "train-split",
                {"train.jsonl": json.dumps({"n": i}).encode() * 20, "val.jsonl": b"{}\n" * (i + 2)},
                metadata={"resize": 224, "seed": i},
                tags=["resized"],
                run_id=prep.id,
            )
        )
    backend.finish_run(prep.id)
    split = ws.versions["train-split:v1"]
    for i in range(3):
        train = backend.create_run(PROJECT, job_type="train", name=f"train-{i}")
        ws.runs[f"train-{i}"] = train.id
        backend.use_version(train.id, split.id)
        keep(
            log(
                PROJECT,
                "resnet50",
                {"model.pt": bytes([7, i]) * 5000, "config.json": b'{"layers": 50}'},
                type_="model",
                aliases=["best"] if i == 1 else [],
                metadata={"accuracy": 0.8 + i / 100, "epochs": 10 * (i + 1)},
                run_id=train.id,
            )
        )
        backend.finish_run(train.id)
    evaluate = backend.create_run(PROJECT, job_type="evaluate", name="eval-best")
    ws.runs["evaluate"] = evaluate.id
    backend.use_version(evaluate.id, ws.versions["resnet50:v1"].id)
    keep(
        log(
            PROJECT,
            "eval-report",
            {"report.json": b'{"accuracy": 0.81, "f1": 0.79}'},
            type_="evaluation",
            run_id=evaluate.id,
        )
    )
    backend.finish_run(evaluate.id)
    keep(log("nlp", "corpus", {"text.txt": b"hello world\n" * 10}, description="Wiki dump"))
    return ws
