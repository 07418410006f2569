"""Shared fixtures. The network is blocked for every test (only loopback is allowed), and the
real model is loaded once per session.

Test tiers (markers, see pyproject.toml): ``integration`` (the real bundled model; given to every
test that uses a real-model fixture), ``browser``, ``ray``, ``slow``. ``make test-fast`` runs
the rest; ``make test`` runs everything.
"""

from __future__ import annotations

import json
import os
import socket
import sys

import pytest

from tests.helpers import ROOT, SEED_DOC, SEED_QUESTIONS, write

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(ROOT))

REAL_MODEL_FIXTURES = frozenset(("real_embedder", "seed_index", "seed_qa"))


def pytest_collection_modifyitems(config, items):
    for item in items:
        if REAL_MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


_real_connect = socket.socket.connect


def _loopback_only(self, address, *args, **kwargs):
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and host not in ("127.0.0.1", "::1", "localhost", "0.0.0.0") and not host.startswith("/"):
        raise RuntimeError(f"tests must not use the network (tried to connect to {address!r})")
    return _real_connect(self, address, *args, **kwargs)


@pytest.fixture(autouse=True)
def block_network(monkeypatch):
    if os.environ.get("QA_TESTS_ALLOW_NETWORK") != "1":
        monkeypatch.setattr(socket.socket, "connect", _loopback_only)
    yield


@pytest.fixture
def hashing_embedder():
    from embeddings import HashingEmbedder

    return HashingEmbedder(dim=1024)


@pytest.fixture(scope="session")
def real_embedder():
    """The bundled all-MiniLM-L6-v2, loaded once for the whole session."""
    from embeddings import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    assert embedder.dim == 384
    return embedder


@pytest.fixture(scope="session")
def seed_questions():
    return [json.loads(line) for line in SEED_QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, real_embedder):
    """An index of the seed article built once with the real model, saved on disk."""
    from qa import QA

    index_dir = tmp_path_factory.mktemp("seed-index")
    QA.build([SEED_DOC], index_dir=index_dir, embedder=real_embedder)
    return index_dir


@pytest.fixture(scope="session")
def seed_qa(seed_index, real_embedder):
    from qa import QA

    return QA.load(seed_index, embedder=real_embedder)


@pytest.fixture
def tiny_corpus(tmp_path):
    """Four small documents of different kinds about unrelated topics."""
    folder = tmp_path / "docs"
    write(folder / "cats.txt", "Cats\n\nCats are small domesticated carnivores. They sleep for most of the day.\n\nA group of cats is called a clowder.")
    write(
        folder / "rivers.md",
        "# Rivers\n\nThe Nile is the longest river in Africa.\n\n## Europe\n\nThe Danube flows through ten countries. It ends in the Black Sea.\n",
    )
    write(
        folder / "guide.html",
        "<html><head><title>Baking guide</title></head><body><nav>Home | About</nav><main><h1>Bread</h1>"
        "<p>Bread needs flour, water, yeast and salt. Knead the dough for ten minutes.</p>"
        "<h2>Proofing</h2><p>Let the dough rise until it doubles in size.</p></main><footer>Copyright</footer></body></html>",
    )
    write(
        folder / "facts.jsonl",
        json.dumps({"id": "v1", "title": "Volcanoes", "text": "Mount Etna is an active volcano in Sicily."}) + "\n"
        + json.dumps({"id": "v2", "title": "Glaciers", "text": "Glaciers are slow rivers of ice that shape valleys."}) + "\n",
    )
    return folder
