"""What "Rasa is ready" means, shared by `make run`'s runner and the gateway's `/health/ready`."""
from __future__ import annotations

import json


def rasa_has_model(status: int, body: bytes) -> bool:
    """Rasa's `GET /status` answered 200 and names a loaded model (it answers 200 before the model loads)."""
    if status != 200:
        return False
    try:
        return bool(json.loads(body).get("model_file"))
    except ValueError:
        return False
