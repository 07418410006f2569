"""The chat app: upload handling and the chat turn (in process), then the running server through
gradio_client and a real Chromium (Playwright, Debian's /usr/bin/chromium)."""

import contextlib
import html
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import app as chat_app
from tests.helpers import ROOT, SEED_DOC, pdf_bytes, write

HOSTILE_MD = """# Hostile notes

The secret launch code of the zebra project is 48151623, filed as `<img src="x" onerror="window.__pwned = 4">` in the vault. <script>window.__pwned = 1;</script>
<img src="x" onerror="window.__pwned = 2"> ![tracker](http://tracker.invalid/pixel.png) [click](javascript:window.__pwned=3)

<iframe src="http://tracker.invalid/frame"></iframe> **bold** and `code`.
"""


def test_uploads_accept_every_format_the_loaders_read():
    from qa.ingest.loaders import SUPPORTED_SUFFIXES

    assert sorted(chat_app.UPLOAD_SUFFIXES) == sorted(SUPPORTED_SUFFIXES)


def test_safe_upload_name():
    assert chat_app.safe_upload_name("../../etc/passwd.txt") == "passwd.txt"
    assert chat_app.safe_upload_name("..\\..\\win\\evil.md") == "evil.md"
    assert chat_app.safe_upload_name(".hidden.html") == "hidden.html"
    assert chat_app.safe_upload_name("a b/c d.PDF") == "c_d.pdf"
    assert chat_app.safe_upload_name("") == "upload"


def test_store_uploads_caps_size_confines_names_and_never_overwrites(tmp_path):
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    good = incoming / "notes.md"
    good.write_text("first version", encoding="utf-8")
    other = tmp_path / "other" / "notes.md"
    other.parent.mkdir()
    other.write_text("a different file with the same name", encoding="utf-8")
    big = incoming / "big.txt"
    big.write_bytes(b"x" * 3 * 1024 * 1024)
    exe = incoming / "tool.exe"
    exe.write_bytes(b"MZ")
    uploads = tmp_path / "index" / "uploads"
    stored, refused = chat_app.store_uploads([str(good), str(other), str(big), str(exe), str(good)], uploads, max_mb=1)
    assert [p.name for p in stored] == ["notes.md", "notes-1.md", "notes.md"]
    assert all(p.parent == uploads for p in stored)
    assert (uploads / "notes.md").read_text() == "first version"
    assert len(refused) == 2 and "too large" in refused[0] and "unsupported file type" in refused[1]


def test_chat_turn_in_process(seed_qa):
    app = chat_app.ChatApp(seed_qa)
    message, sources = app.chat("Which non-NATO countries joined the statement?", [], 5, "hybrid", None)
    assert "[1]" in message and "qa-citation" in message
    assert "nato-dprk-statement.txt" in sources and "<mark>" in sources
    history = [{"role": "user", "content": "Which UN Security Council resolutions are violated?"}, {"role": "assistant", "content": message}]
    follow, _ = app.chat("and by whom?", history, 5, "hybrid", None)
    assert "Searched for" in follow
    refused, panel = app.chat("   ", [], 5, "hybrid", None)
    assert refused.startswith("⚠️") and "empty" in refused


def test_three_turn_chat_completes_the_latest_answered_question(seed_qa):
    app = chat_app.ChatApp(seed_qa)
    history: list[dict] = []

    def turn(question):
        reply, _ = app.chat(question, history, 5, "hybrid", None)
        history.extend([{"role": "user", "content": question}, {"role": "assistant", "content": reply}])
        return reply

    turn("Which countries joined the statement?")
    second = turn("And which UN resolutions were violated?")
    assert "Searched for" not in second  # names its own topic
    third = turn("when were they adopted?")
    assert "Searched for: <em>And which UN resolutions were violated? when were they adopted?</em>" in third
    # A question the documents do not answer is not borrowed by the next follow-up.
    declined = turn("How many tanks did Germany deliver to Ukraine in 2023?")
    assert declined.startswith("The indexed documents do not answer")
    fourth = turn("and who joined it?")
    assert "How many tanks" not in fourth
    assert "when were they adopted? and who joined it?" in fourth


@pytest.fixture
def removal_app(tmp_path, tiny_corpus, hashing_embedder):
    from qa import QA

    qa = QA.build([tiny_corpus], index_dir=tmp_path / "idx", embedder=hashing_embedder)
    (tiny_corpus / "sub").mkdir()
    write(tiny_corpus / "sub" / "notes.md", "# Notes\n\nThe meeting moved to Thursday.\n")
    qa.add([tiny_corpus])
    return chat_app.ChatApp(qa, roots=[tiny_corpus])


@pytest.mark.parametrize("source", ["/", ".", "..", "*", "/etc", "/tmp/../", "docs", "![t](http://127.0.0.2:9/t)", 123, ["/"]])
def test_removal_in_the_app_accepts_only_listed_documents_and_folders_inside_its_roots(removal_app, source, monkeypatch, tiny_corpus):
    monkeypatch.chdir(tiny_corpus)
    before = removal_app.sources()
    message = removal_app.remove(source)
    assert message.startswith("⚠️") and removal_app.sources() == before, message
    assert "![" not in message and "](" not in message  # typed input is shown inert, never as Markdown


def test_removal_in_the_app_of_a_document_a_subfolder_and_never_the_last(removal_app, tiny_corpus):
    assert removal_app.remove(None) == "Choose a document to remove."
    # Clients see names relative to the document folders, never the server's absolute paths.
    names = removal_app.sources()
    assert "docs/cats.txt" in names and "docs/facts.jsonl#v1" in names and not any(str(tiny_corpus) in n for n in names)
    assert removal_app.remove("docs/cats.txt").startswith("Removed cats.txt")
    assert removal_app.remove("docs/sub").startswith("Removed notes.md")  # a folder, as shown
    # The root folder itself names every document left: refused, nothing removed.
    left = removal_app.sources()
    refused = removal_app.remove(str(tiny_corpus))
    assert refused.startswith("⚠️") and "leave nothing to answer from" in refused and removal_app.sources() == left


def test_an_app_started_with_docs_syncs_the_index_with_them(tmp_path, tiny_corpus, hashing_embedder, capsys):
    from qa import QA

    index = tmp_path / "idx"
    QA.build([tiny_corpus], index_dir=index, embedder=hashing_embedder).remove(tiny_corpus / "cats.txt")
    (tiny_corpus / "rivers.md").unlink()  # deleted while the app was not running
    reopened = chat_app.open_index(index, [tiny_corpus])  # the manifest names the hashing embedder
    assert any(d.source.endswith("cats.txt") for d in reopened.documents)
    assert not any(d.source.endswith("rivers.md") for d in reopened.documents)
    out = capsys.readouterr().out
    assert "synced with" in out and "added 1" in out and "removed 1" in out
    chat_app.open_index(index, [tiny_corpus])  # nothing changed: nothing said
    assert "synced" not in capsys.readouterr().out
    shutil.rmtree(tiny_corpus)  # an unmounted folder: the index is kept, with a warning
    kept = chat_app.open_index(index, [tiny_corpus])
    assert len(kept.documents) == len(reopened.documents) and "not synced" in capsys.readouterr().err


def test_answered_questions_skips_declined_and_failed_turns():
    history = [
        {"role": "user", "content": "Q1?"},
        {"role": "assistant", "content": "**A1** [1]"},
        {"role": "user", "content": "Q2?"},
        {"role": "assistant", "content": "The indexed documents do not answer this question."},
        {"role": "user", "content": "Q3?"},
        {"role": "assistant", "content": "⚠️ the question is empty"},
        {"role": "user", "content": [{"type": "text", "text": "Q4?"}]},
        {"role": "assistant", "content": "A4"},
        {"role": "user", "content": "Q5 without a reply"},
    ]
    assert chat_app.answered_questions(history) == ["Q1?", "Q4?"]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(index, *args: str, env: dict | None = None):
    """The app serving ``index`` in a process of its own (with ``args``); yields its URL."""
    port = _free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1", **(env or {}))
    log_path = index.parent / f"app-{port}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), "--index", str(index), "--port", str(port), *args],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}/"
        deadline = time.time() + 120
        while time.time() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the app exited: {log_path.read_text()}")
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except urllib.error.HTTPError:  # it answers (a login page, say): it is up
                break
            except OSError:
                time.sleep(0.5)
        else:
            process.kill()
            raise RuntimeError(f"the app did not start: {log_path.read_text()}")
        try:
            yield url
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory, seed_index):
    index = tmp_path_factory.mktemp("app") / "index"
    shutil.copytree(seed_index, index)
    with running_app(index, "--max-upload-mb", "1") as url:
        yield {"url": url, "index": index}


def test_an_api_key_is_the_password_programs_log_in_with_and_nothing_passes_without_it(tmp_path, seed_index):
    from gradio_client import Client

    index = tmp_path / "index"
    shutil.copytree(seed_index, index)
    key = "k3y-" + "x" * 20
    with running_app(index, "--auth", "ann:s3cret-pass", env={"QA_API_KEY": key}) as url:
        answer = Client(url, auth=("any-program", key), verbose=False).predict(question="Which countries joined the statement?", api_name="/ask")
        assert answer["citations"] or answer["abstained"] is True
        assert Client(url, auth=("ann", "s3cret-pass"), verbose=False).predict(question="rivers", api_name="/search") is not None
        for credentials in (None, ("any-program", key[:-1]), ("ann", key[:-1]), ("ann", "wrong")):
            with pytest.raises(Exception):
                Client(url, auth=credentials, verbose=False).predict(question="Which countries joined the statement?", api_name="/ask")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(url + "gradio_api/info"), timeout=10)
        assert refused.value.code == 401
        # The same key is the OpenAI-compatible API's bearer token; nothing passes without it.
        import openai

        assert [m.id for m in openai.OpenAI(base_url=url + "v1", api_key=key).models.list()] == ["index"]
        for wrong in (key[:-1], "ann:s3cret-pass"):
            with pytest.raises(openai.AuthenticationError):
                openai.OpenAI(base_url=url + "v1", api_key=wrong).chat.completions.create(model="index", messages=[{"role": "user", "content": "Which countries joined?"}])


def test_openai_client_plain_streamed_follow_up_abstention_and_bad_requests(server):
    import openai

    client = openai.OpenAI(base_url=server["url"] + "v1", api_key="unused-on-loopback-without-auth")
    assert [m.id for m in client.models.list()] == ["index"]
    first = "Which UN Security Council resolutions does the Russia-DPRK military cooperation violate?"
    plain = client.chat.completions.create(model="index", messages=[{"role": "user", "content": first}])
    text = plain.choices[0].message.content
    assert "1718" in text and "[1]" in text and "<" not in text  # plain text, no HTML
    citations = plain.model_extra["citations"]
    assert citations[0]["number"] == 1 and not citations[0]["source"].startswith("/")  # shown names, no server paths
    streamed = client.chat.completions.create(model="index", stream=True, messages=[{"role": "user", "content": first}])
    chunks = list(streamed)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == text
    assert chunks[-1].model_extra["citations"] == citations
    follow = client.chat.completions.create(
        model="index",
        messages=[
            {"role": "user", "content": first},
            {"role": "assistant", "content": text},
            {"role": "user", "content": "Who won the football world cup in 2022?"},
            {"role": "assistant", "content": "The indexed documents do not answer this question."},
            {"role": "user", "content": "and when were they adopted?"},
        ],
    )
    # Completed with the latest question that was answered (the declined one is skipped).
    assert follow.model_extra["grounding"]["query"].startswith(first)
    declined = client.chat.completions.create(model="index", messages=[{"role": "user", "content": "Who won the football world cup in 2022?"}])
    assert declined.model_extra["grounding"]["abstained"] is True
    assert declined.choices[0].message.content.startswith("The indexed documents do not answer this question.")
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": first}])
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="index", messages=[])
    with pytest.raises(openai.APIStatusError) as too_big:
        client.chat.completions.create(model="index", messages=[{"role": "user", "content": "x" * 1_100_000}])
    assert too_big.value.status_code == 413
    raw = urllib.request.Request(server["url"] + "v1/chat/completions", data=b"{not json", headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as malformed:
        urllib.request.urlopen(raw, timeout=30)
    assert malformed.value.code == 400 and "not valid JSON" in json.loads(malformed.value.read())["error"]["message"]
    # Metadata filters ride along (extra_body); one that matches nothing is an honest abstention.
    filtered = client.chat.completions.create(model="index", messages=[{"role": "user", "content": first}], extra_body={"filters": {"kind": "pdf"}})
    assert filtered.model_extra["grounding"]["abstained"] is True and "No indexed passage matches the filters (kind = pdf)" in filtered.choices[0].message.content
    with pytest.raises(openai.BadRequestError, match="unknown filter key 'colour'"):
        client.chat.completions.create(model="index", messages=[{"role": "user", "content": first}], extra_body={"filters": {"colour": "red"}})
    # The host and origin checks stand in front of this API too.
    rebinding = urllib.request.Request(server["url"] + "v1/models", headers={"Host": "evil.example"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(rebinding, timeout=30)
    assert refused.value.code == 421
    # The server keeps serving after all of that.
    assert client.chat.completions.create(model="index", messages=[{"role": "user", "content": first}]).choices[0].message.content == text


def test_an_api_key_must_be_long_enough():
    assert chat_app.parse_args(["--api-key", "a" * 16]).api_key == "a" * 16
    for bad in ("short", " " + "a" * 20, ""):
        with pytest.raises(SystemExit):
            chat_app.parse_args(["--api-key", bad])


def test_gradio_client_endpoints(server, tmp_path):
    from gradio_client import Client, handle_file

    client = Client(server["url"], verbose=False)
    answer = client.predict(question="Which UN Security Council resolutions does the cooperation violate?", api_name="/ask")
    assert answer["abstained"] is False and answer["citations"][0]["number"] == 1
    assert "1718" in " ".join(c["text"] for c in answer["citations"])
    follow = client.predict(question="and who joined it?", previous_questions=["Which statement condemned the DPRK troops?"], api_name="/ask")
    assert follow["query"].startswith("Which statement condemned")
    only_pdfs = client.predict(question="Which UN Security Council resolutions does the cooperation violate?", filters={"kind": "pdf"}, api_name="/ask")
    assert only_pdfs["abstained"] is True and not only_pdfs["citations"]
    texts = client.predict(question="resolutions", filters={"kind": "text"}, api_name="/search")
    assert texts and all(h["passage"]["source"].endswith(".txt") for h in texts)
    unanswerable = client.predict(question="Who won the football world cup in 2022?", api_name="/ask")
    assert unanswerable["abstained"] is True and unanswerable["citations"] == []
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="the question is empty"):
        client.predict(question="   ", api_name="/ask")
    with pytest.raises(AppError, match="mode must be one of"):
        client.predict(question="missiles", mode="psychic", api_name="/search")
    hits = client.predict(question="ballistic missiles", k=3, api_name="/search")
    assert len(hits) == 3 and hits[0]["rank"] == 1
    message, sources, plain = client.predict(message="What does NATO ask all countries to do?", k=5, mode="hybrid", abstain_threshold=0.3, api_name="/chat")
    assert "[1]" in message and "qa-source" in sources
    assert "[1] NATO countries strongly condemn" in plain and "<" not in plain  # the answer as plain text

    upload = tmp_path / "zebra notes.md"
    # A line of its own makes this upload's content (and Gradio's temp folder, named by its hash) unique.
    upload.write_text(f"# Zebras\n\nThe zebra project launched in 2019 from Nairobi.\n\nRun {os.getpid()}-{time.time_ns()}.\n", encoding="utf-8")
    status = client.predict(files=[handle_file(str(upload))], api_name="/upload")
    assert "added 1" in status
    assert (server["index"] / "uploads" / "zebra_notes.md").exists()
    docs = client.predict(api_name="/documents")
    zebra = [d for d in docs if d["title"] == "Zebras"]
    assert zebra
    files = client.predict(api_name="/files")
    assert files["summary"] == f"{len(files['files'])} of {len(files['files'])} files indexed"
    assert {"file": "uploads/zebra_notes.md", "status": "indexed", "state": "indexed: 1 passage", "notes": []} in files["files"]
    answer = client.predict(question="When did the zebra project launch?", api_name="/ask")
    assert not answer["abstained"] and "2019" in answer["citations"][0]["highlight"]
    # Finding 4: clients see documents by their shown names, never the server's absolute paths.
    assert answer["citations"][0]["source"] == "uploads/zebra_notes.md"
    assert not any(h["passage"]["source"].startswith("/") for h in answer["hits"])
    assert not any(h["passage"]["source"].startswith("/") for h in client.predict(question="zebra", k=3, api_name="/search"))
    # A citation opens in its document through the API too.
    cited = answer["citations"][0]
    excerpt = client.predict(source=cited["source"], start=cited["start"], end=cited["end"], context_chars=50, api_name="/document")
    offset = cited["start"] - excerpt["text_start"]
    assert excerpt["text"][offset : offset + len(cited["text"])] == cited["text"] and excerpt["title"] == "Zebras"
    with pytest.raises(AppError, match="no indexed document '/etc/passwd'"):
        client.predict(source="/etc/passwd", api_name="/document")
    # Finding 5: Gradio's temporary copy of the upload is deleted once the file is stored.
    from gradio.utils import get_upload_folder

    assert not [p for p in Path(get_upload_folder()).rglob("zebra notes.md") if p.read_bytes() == upload.read_bytes()]
    removed = client.predict(source=zebra[0]["source"], api_name="/remove_document")
    assert "Removed zebra_notes.md" in html.unescape(removed)  # the status is inert HTML for a Markdown view
    # Finding 1 of "Safe to leave running": "/" (and ".", "..") removed every document.
    for source in ("/", ".", "..", "*"):
        refused = client.predict(source=source, api_name="/remove_document")
        assert refused.startswith("⚠️"), (source, refused)
    assert len(client.predict(api_name="/documents")) == len(docs) - 1
    # Finding 4: the page config lists documents by their shown names, not the server's paths.
    config = urllib.request.urlopen(server["url"] + "config", timeout=10).read().decode()
    assert "nato-dprk-statement.txt" in config and str(SEED_DOC) not in config
    # A request naming another host (DNS rebinding) or sent from another site's page.
    for headers, status in (({"Host": "evil.example:7871", "Origin": "http://evil.example:7871"}, 421), ({"Origin": "http://evil.example"}, 403)):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(server["url"] + "config", headers=headers), timeout=10)
        assert refused.value.code == status

    pdf = write(
        tmp_path / "glacier report.pdf",
        pdf_bytes(
            "Glacier survey, page one: methods and instruments.",
            "The Aletsch glacier retreated 51 metres in 2022 according to the survey.",
        ),
    )
    status = client.predict(files=[handle_file(str(pdf))], api_name="/upload")
    assert "added 1" in status
    answer = client.predict(question="How far did the Aletsch glacier retreat in 2022?", api_name="/ask")
    assert not answer["abstained"]
    lead = answer["citations"][0]
    assert lead["page"] == 2 and "51 metres" in lead["highlight"]


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def _upload(page, path):
    """Add ``path`` in the Documents tab and wait until it is indexed and Add is usable again."""
    page.get_by_role("tab", name="Documents").click()
    page.locator("#upload input[type=file]").set_input_files(str(path))
    page.locator("#add-button").click()
    page.wait_for_function("document.querySelector('#upload-status').innerText.includes('added 1')", timeout=60_000)
    page.wait_for_function("!document.querySelector('#add-button').disabled", timeout=30_000)


def _set_slider(page, elem_id, value, attempts=3):
    """Set a settings slider and wait until its number box shows the value. A change made while
    the page is still settling (the first page a fresh server serves) can be lost: it is made again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(attempts):
        page.locator(f"{elem_id} input[type=range]").fill(value)
        try:
            page.wait_for_function(f"Number(document.querySelector('{elem_id} input[type=number]').value) === {float(value)}", timeout=10_000)
            return
        except PlaywrightTimeout:
            continue
    shown = page.evaluate(f"[document.querySelector('{elem_id} input[type=range]').value, document.querySelector('{elem_id} input[type=number]').value]")
    raise AssertionError(f"{elem_id} did not take {value} in {attempts} attempts: slider and box show {shown}")


def _ask(page, question):
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")


@pytest.mark.browser
def test_browser_chat_shows_answer_citation_and_sources(server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    external = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(server["url"]) and not r.url.startswith("data:") else None)
    page.goto(server["url"])
    _ask(page, "Which UN Security Council resolutions does the Russia-DPRK military cooperation violate?")
    bot = page.locator("#chat .message.bot, #chat [data-testid='bot']").last
    bot.wait_for(timeout=60_000)
    page.wait_for_function("document.querySelector('#sources-panel') && document.querySelector('#sources-panel').innerText.includes('[1]')", timeout=60_000)
    text = page.locator("#chat").inner_text()
    assert "2270" in text and "[1]" in text
    marker = page.locator("#chat a.qa-marker").first  # [1] links to its citation below the answer
    assert marker.get_attribute("href") == "#citation-1" and page.locator("#chat details#citation-1").count() == 1
    sources = page.locator("#sources-panel").inner_text()
    assert "nato-dprk-statement.txt" in sources and "score" in sources
    assert page.locator("#sources-panel mark").count() >= 1
    shot = Path(os.environ.get("QA_SCREENSHOT", tmp_path / "chat.png"))
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    assert not external, f"the page fetched external resources: {external}"
    page.close()


def _contrast(page, selector):
    """WCAG contrast ratio of the first ``selector`` element's text against its background."""
    return page.evaluate(
        """(selector) => {
            const el = document.querySelector(selector);
            const style = getComputedStyle(el);
            const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
            const lum = ([r, g, b]) => {
                const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
                return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
            };
            const [a, b] = [lum(rgb(style.color)), lum(rgb(style.backgroundColor))];
            return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        }""",
        selector,
    )


@pytest.mark.browser
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_browser_highlights_are_readable_in_light_and_dark(server, browser, theme):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server["url"] + f"?__theme={theme}")
    _ask(page, "Which UN Security Council resolutions does the Russia-DPRK military cooperation violate?")
    page.wait_for_function("document.querySelector('#sources-panel mark')", timeout=60_000)
    assert page.evaluate("document.body.classList.contains('dark') || !!document.querySelector('.dark')") == (theme == "dark")
    ratio = _contrast(page, "#sources-panel mark")
    assert ratio >= 4.5, f"highlight contrast {ratio:.2f} in {theme} mode"
    page.close()


@pytest.mark.browser
def test_browser_removal_is_confirmed_naming_the_file_and_its_passages(server, browser, tmp_path):
    note = write(tmp_path / "heron notes.md", "# Herons\n\nHerons stand still in shallow water for hours.\n")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server["url"])
    page.get_by_role("tab", name="Documents").click()
    assert page.locator("#remove-choice input").input_value() == "", "nothing is chosen for removal before the user chooses"
    _upload(page, note)
    page.locator("#remove-choice input").fill("uploads/heron_notes.md")
    page.locator("#remove-button").click()
    page.locator("#remove-question").wait_for(state="visible", timeout=10_000)
    assert page.locator("#remove-question").inner_text() == "Remove uploads/heron_notes.md and its 1 passage from the index? This cannot be undone."
    page.locator("#remove-cancel").click()
    page.wait_for_function("document.querySelector('#upload-status').innerText.includes('Nothing was removed')", timeout=10_000)
    assert "heron_notes.md" in page.locator("#documents").inner_text()
    page.locator("#remove-button").click()
    page.locator("#remove-yes").click()
    page.wait_for_function("document.querySelector('#upload-status').innerText.includes('Removed heron_notes.md')", timeout=30_000)
    page.wait_for_function("!document.querySelector('#documents').innerText.includes('heron_notes.md')", timeout=30_000)
    page.close()


@pytest.mark.browser
def test_browser_settings_and_the_conversation_survive_a_reload(server, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(server["url"])
    page.get_by_text("Settings").first.click()
    page.locator("#setting-mode label", has_text="lexical").click()
    page.wait_for_function("localStorage.getItem('grounded-qa-settings') !== null", timeout=30_000)
    saved = page.evaluate("localStorage.getItem('grounded-qa-settings')")
    page.locator("#setting-k input[type=range]").fill("3")
    page.wait_for_function("(before) => localStorage.getItem('grounded-qa-settings') !== before", arg=saved, timeout=30_000)
    _ask(page, "Which UN Security Council resolutions does the Russia-DPRK military cooperation violate?")
    page.wait_for_function("document.querySelector('#sources-panel') && document.querySelector('#sources-panel').innerText.includes('[1]')", timeout=60_000)
    page.wait_for_timeout(1000)
    page.reload()
    page.get_by_text("Settings").first.click()
    page.wait_for_function("document.querySelector('#setting-k input[type=number]').value === '3'", timeout=30_000)
    page.wait_for_function("document.querySelector('#setting-mode input[value=lexical]').checked", timeout=30_000)
    # The earlier conversation is kept in the browser and listed to go back to.
    page.wait_for_function("document.body.innerText.includes('Which UN Security Council')", timeout=30_000)
    context.close()


@pytest.mark.browser
def test_browser_the_document_picker_keeps_answers_to_the_chosen_documents(server, browser, tmp_path):
    note = tmp_path / f"kestrel_notes_{os.getpid()}_{time.time_ns()}.md"
    note.write_text("# Kestrels\n\nThe kestrel survey of 2021 counted 48 nesting pairs along the Danube.\n", encoding="utf-8")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server["url"])
    _upload(page, note)
    page.get_by_role("tab", name="Chat").click()
    page.get_by_text("Settings").first.click()
    picker = page.locator("#setting-documents input")
    picker.click()
    option = page.get_by_role("option", name=f"uploads/{note.name}")
    option.wait_for(timeout=30_000)  # the upload is listed without a reload
    option.click()
    page.keyboard.press("Escape")
    _ask(page, "Which UN Security Council resolutions does the Russia-DPRK military cooperation violate?")
    page.wait_for_function(
        "document.querySelector('#chat') && (document.querySelector('#chat').innerText.includes('do not answer')"
        " || document.querySelector('#sources-panel').innerText.includes('kestrel'))",
        timeout=60_000,
    )
    assert "nato-dprk" not in page.locator("#sources-panel").inner_text()  # the statement was not chosen
    page.close()


@pytest.mark.browser
def test_browser_a_typed_setting_out_of_range_is_refused_with_a_message(server, browser):
    page = browser.new_page()
    page.goto(server["url"])
    page.get_by_text("Settings").first.click()
    typed = page.locator("#setting-k input[type=number]")
    typed.wait_for(timeout=30_000)
    before = page.locator("#setting-k input[type=range]").input_value()
    typed.fill("15")
    typed.press("Enter")
    page.wait_for_function("document.querySelector('#settings-note').innerText.includes('15 was not used')", timeout=10_000)
    assert "k must be a whole number from 1 to 10" in page.locator("#settings-note").inner_text()
    assert page.locator("#setting-k input[type=range]").input_value() == before  # not clamped to 10
    assert typed.get_attribute("aria-invalid") == "true"
    threshold = page.locator("#setting-threshold input[type=number]")
    threshold.fill("1.5")
    page.wait_for_function("document.querySelector('#settings-note').innerText.includes('1.5 was not used')", timeout=10_000)
    assert page.locator("#setting-threshold input[type=range]").input_value() != "1"
    typed.fill("3")
    typed.press("Enter")
    page.wait_for_function("document.querySelector('#setting-k input[type=range]').value === '3'", timeout=10_000)
    assert page.locator("#settings-note").inner_text().strip() == ""
    page.close()


@pytest.mark.browser
def test_browser_a_citation_opens_its_document_at_the_highlight(server, browser, tmp_path):
    # A long document whose cited sentence sits far down: the view must scroll to it.
    filler = "\n\n".join(f"Paragraph {i} is about the weather in spring and nothing else of note." for i in range(300))
    note = write(tmp_path / "almanac.txt", f"Almanac\n\n{filler}\n\nThe lighthouse of Kavala was first lit on 4 May 1864.\n\n{filler}")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server["url"])
    _upload(page, note)
    page.get_by_role("tab", name="Chat").click()
    _ask(page, "When was the lighthouse of Kavala first lit?")
    page.wait_for_function("document.querySelector('#sources-panel').innerText.includes('1864')", timeout=60_000)
    page.locator("#open-citation input").click()
    page.get_by_role("option", name="[1] Almanac — uploads/almanac.txt").click()
    highlight = page.locator("#document-view mark#qa-doc-highlight")
    highlight.wait_for(timeout=30_000)
    assert "first lit on 4 May 1864" in highlight.inner_text()
    assert "Paragraph 299" in page.locator("#document-view").inner_text(), "the passage is shown in its document"
    page.wait_for_timeout(800)
    inside = page.evaluate(
        """() => {
            const mark = document.getElementById('qa-doc-highlight').getBoundingClientRect();
            const box = document.querySelector('#document-view .qa-doc-text').getBoundingClientRect();
            return mark.top >= box.top && mark.bottom <= box.bottom;
        }"""
    )
    assert inside, "the highlight is scrolled into view"
    page.close()


@pytest.mark.browser
def test_browser_copy_gives_the_answer_as_plain_text_with_its_sources(server, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server["url"].rstrip("/"))
    page = context.new_page()
    page.goto(server["url"])
    _ask(page, "Which UN Security Council resolutions does the Russia-DPRK military cooperation violate?")
    page.wait_for_function("document.querySelector('#sources-panel') && document.querySelector('#sources-panel').innerText.includes('[1]')", timeout=60_000)
    page.get_by_role("button", name="Copy answer").click()
    page.wait_for_function("navigator.clipboard.readText().then(t => t.length > 0)", timeout=10_000)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "2270" in copied and "[1] NATO countries strongly condemn" in copied and "nato-dprk-statement.txt" in copied
    assert "<" not in copied and "**" not in copied and "&#" not in copied, copied
    context.close()


@pytest.mark.browser
def test_browser_theme_switch_is_remembered_and_narrow_screens_do_not_scroll_sideways(server, browser):
    context = browser.new_context(viewport={"width": 400, "height": 900})
    page = context.new_page()
    page.goto(server["url"] + "?__theme=light")
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    page.get_by_role("tab", name="Documents").click()
    page.locator("#documents").wait_for()
    # The table's rows come from a load event: a busy machine shows its timer ("0.5s") first.
    page.wait_for_function("/^\\s*file\\s+state/.test(document.querySelector('#documents').innerText)", timeout=30_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    assert page.locator("#documents").inner_text().split()[:2] == ["file", "state"], "file and state come first"
    page.locator("#theme-switch").click()
    page.wait_for_function("document.body.classList.contains('dark')", timeout=10_000)
    page.reload()
    page.wait_for_function("document.body.classList.contains('dark')", timeout=15_000)
    context.close()


@pytest.mark.browser
def test_browser_a_pdf_citation_shows_its_page_with_the_sentence_boxed(server, browser, tmp_path):
    from tests.helpers import table_pdf_bytes

    report = write(
        tmp_path / "fleet report.pdf",
        table_pdf_bytes(
            "The research fleet of the institute is listed below for the coming survey season.",
            [["Vessel", "Length"], ["Aurora", "92 m"]],
            "The icebreaker Polarstjerna winters in the harbour of Tromsø every year.",
            pages_before=("Cover page of the fleet report.",),
        ),
    )
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server["url"])
    _upload(page, report)
    page.get_by_role("tab", name="Chat").click()
    _ask(page, "Where does the icebreaker Polarstjerna spend the winter?")
    page.wait_for_function("document.querySelector('#sources-panel').innerText.includes('Polarstjerna')", timeout=60_000)
    page.locator("#open-citation input").click()
    page.get_by_role("option", name="fleet_report.pdf").first.click()
    image = page.locator("#document-view .qa-page img")
    image.wait_for(timeout=30_000)
    assert image.get_attribute("alt") == "page 2 of uploads/fleet_report.pdf"
    assert page.evaluate("document.querySelector('#document-view .qa-page img').naturalWidth") > 500
    box = page.evaluate(
        """() => {
            const img = document.querySelector('#document-view .qa-page img').getBoundingClientRect();
            const mark = document.querySelector('#document-view .qa-page-mark').getBoundingClientRect();
            return [(mark.top - img.top) / img.height, mark.width / img.width];
        }"""
    )
    assert 0.05 < box[0] < 0.5 and box[1] > 0.3, f"the box sits on the sentence's line near the page top: {box}"
    assert "Polarstjerna winters" in page.locator("#document-view mark").inner_text()
    page.close()


def _open_with_hostile_upload(server, browser, path):
    """A page of the app with HOSTILE_MD uploaded as ``path``, recording every request it makes
    and every dialog it opens (dismissed): ``(page, requests, dialogs)``, on the Chat tab."""
    path.write_text(HOSTILE_MD, encoding="utf-8")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    requests, dialogs = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(server["url"])
    _upload(page, path)
    page.get_by_role("tab", name="Chat").click()
    return page, requests, dialogs


def _assert_nothing_ran(page, requests, dialogs):
    """No script of HOSTILE_MD ran, no element of it was made, nothing it names was fetched."""
    page.wait_for_timeout(500)
    assert page.evaluate("window.__pwned") is None
    assert not dialogs
    assert page.locator("#chat img[src='x'], #sources-panel img, #chat iframe, #sources-panel iframe").count() == 0
    assert not [u for u in requests if "tracker.invalid" in u]


@pytest.mark.browser
def test_browser_a_withheld_answer_names_its_closest_passages_as_inert_text(server, browser, tmp_path):
    page, requests, dialogs = _open_with_hostile_upload(server, browser, tmp_path / "hostile_nearest.md")
    page.get_by_text("Settings").first.click()
    _set_slider(page, "#setting-threshold", "1")  # no answer reaches it
    _ask(page, "What is the secret launch code of the zebra project?")
    page.wait_for_function("document.querySelector('#chat') && document.querySelector('#chat').innerText.includes('No answer shown')", timeout=60_000)
    nearest = page.locator("#chat details.qa-nearest").last
    assert "Closest passages" in nearest.locator("summary").inner_text()
    assert not nearest.locator(".qa-near").first.is_visible()  # folded until asked for
    nearest.locator("summary").click()
    card = nearest.locator(".qa-near").first
    card.wait_for(state="visible", timeout=10_000)
    assert "48151623" in card.inner_text() and "<script>" in card.inner_text()  # the passage, shown as text
    assert page.locator("#chat .qa-near mark").count() == 0  # nothing in it is presented as the answer
    panel = page.locator("#sources-panel")
    assert "No sources" in panel.inner_text() and "Closest passages" in panel.inner_text() and "48151623" in panel.inner_text()
    _assert_nothing_ran(page, requests, dialogs)
    page.close()


@pytest.mark.browser
def test_browser_hostile_upload_runs_nothing(server, browser, tmp_path):
    page, requests, dialogs = _open_with_hostile_upload(server, browser, tmp_path / "hostile.md")
    _ask(page, "What is the secret launch code of the zebra project?")
    page.wait_for_function("document.querySelector('#sources-panel') && document.querySelector('#sources-panel').innerText.includes('48151623')", timeout=60_000)
    page.locator("#chat details.qa-citation").first.locator("summary").click()
    _assert_nothing_ran(page, requests, dialogs)
    assert "<script>" in page.locator("#sources-panel").inner_text()  # shown as text
    # The quote's code span is shown as code, its tag as text.
    assert 'onerror="window.__pwned = 4"' in page.locator("#chat code").first.inner_text()
    page.close()


@pytest.mark.browser
def test_browser_word_upload_disables_add_until_indexed_and_lists_the_file_with_its_state(server, browser, tmp_path):
    from tests.helpers import docx_bytes

    report = write(
        tmp_path / "garrison report.docx",
        docx_bytes([("title", "Garrison report"), ("h1", "Units"), ("table", [["Unit", "Soldiers"], ["Falcon company", "312"]])]),
    )
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server["url"])
    page.get_by_role("tab", name="Documents").click()
    page.locator("#upload input[type=file]").set_input_files(str(report))
    page.locator("#add-button").click()
    page.wait_for_function("document.querySelector('#add-button').disabled", timeout=10_000)
    page.wait_for_function("document.querySelector('#upload-status').innerText.includes('added 1')", timeout=60_000)
    page.wait_for_function("!document.querySelector('#add-button').disabled", timeout=30_000)
    page.wait_for_function("document.querySelector('#documents').innerText.includes('garrison_report.docx')", timeout=30_000)
    row = page.locator("#documents [role=row]", has_text="garrison_report.docx").first.inner_text()
    _, state, passages, title, kind = row.splitlines()
    assert (title, kind) == ("Garrison report", "docx") and state == f"indexed: {passages} passages"
    assert "files indexed" in page.locator("#files-summary").inner_text()
    page.get_by_role("tab", name="Chat").click()
    _ask(page, "How many soldiers does Falcon company have?")
    page.wait_for_function("document.querySelector('#sources-panel') && document.querySelector('#sources-panel').innerText.includes('Soldiers: 312')", timeout=60_000)
    page.close()


@pytest.fixture
def tiny_app(tmp_path, tiny_corpus, hashing_embedder):
    from qa import QA

    return chat_app.ChatApp(QA.build([tiny_corpus], index_dir=tmp_path / "idx", embedder=hashing_embedder))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"question": None}, "the question must be text"),
        ({"question": "rivers", "k": "abc"}, "k must be a positive integer"),
        ({"question": "rivers", "k": True}, "k must be a positive integer"),
        ({"question": "rivers", "k": 1.5}, "k must be a positive integer"),
        ({"question": "rivers", "k": 0}, "k must be a positive integer"),
        ({"question": "rivers", "previous_questions": "abc"}, "previous_questions must be a list"),
        ({"question": "rivers", "previous_questions": [1, 2]}, "previous_questions must be a list"),
        ({"question": "rivers", "abstain_threshold": "abc"}, "abstain_threshold must be"),
        ({"question": "rivers", "abstain_threshold": True}, "abstain_threshold must be"),
        ({"question": "rivers", "mode": "psychic"}, "mode must be one of"),
    ],
)
def test_ask_checks_its_inputs_before_using_them(tiny_app, kwargs, message):
    from qa import InputError

    with pytest.raises(InputError, match=message):
        tiny_app.ask(**kwargs)


def test_the_api_uses_the_index_s_saved_search_mode_unless_a_call_names_one(tiny_app):
    # "A design a newcomer can see": the UI and API hard-coded mode="hybrid" over an index's saved default.
    from dataclasses import replace

    qa = tiny_app.qa
    qa.search_settings = replace(qa.search_settings, mode="lexical")
    question = "Which river is the longest in Africa?"
    lexical = [(h.passage.id, round(h.score, 6)) for h in qa.search(question, k=3, mode="lexical")]
    hybrid = [(h.passage.id, round(h.score, 6)) for h in qa.search(question, k=3, mode="hybrid")]
    assert lexical != hybrid  # the check below can tell the two apart
    assert [(h.passage.id, round(h.score, 6)) for h in tiny_app.ask(question, k=3).hits] == lexical
    assert [(h.passage.id, round(h.score, 6)) for h in tiny_app.ask(question, k=3, mode="hybrid").hits] == hybrid


def test_ask_and_search_take_metadata_filters(tiny_app):
    from qa import InputError

    answer = tiny_app.ask("Which volcano is active?", abstain_threshold=0.0, filters={"kind": "jsonl", "title": "Volcano*"})
    assert answer.citations and all(c.source.endswith("facts.jsonl#v1") for c in answer.citations)
    assert tiny_app.ask("Which volcano is active?", abstain_threshold=0.0, filters={"kind": "pdf"}).abstained
    with pytest.raises(InputError, match="unknown filter key 'colour'"):
        tiny_app.ask("rivers", filters={"colour": "red"})


def test_the_document_picker_restricts_a_chat_turn_to_the_chosen_documents(tiny_app):
    from qa import InputError

    names = tiny_app.sources()
    rivers = next(n for n in names if n.endswith("rivers.md"))
    assert tiny_app.document_filter([]) is None and tiny_app.document_filter(None) is None
    _, _, cited, _ = tiny_app.chat_turn("Which volcano is active?", [], 5, "hybrid", 0.0, [rivers])
    assert cited and all(c["source"].endswith("rivers.md") for c in cited)
    _, _, cited, _ = tiny_app.chat_turn("Which volcano is active?", [], 5, "hybrid", 0.0, [])
    assert any("facts.jsonl" in c["source"] for c in cited)
    reply, _, cited, _ = tiny_app.chat_turn("Which volcano is active?", [], 5, "hybrid", 0.0, ["gone.md"])
    assert reply.startswith(chat_app.ERROR_PREFIX) and "&#x27;gone.md&#x27; is not an indexed document" in reply and cited == []  # escaped
    with pytest.raises(InputError, match="documents must be a list"):
        tiny_app.document_filter([3])


def test_a_removed_upload_is_deleted_from_disk_and_a_read_only_app_changes_nothing(tmp_path, tiny_app):
    # Finding 5 of "Safe to leave running": removed documents' upload copies stayed on disk.
    note = write(tmp_path / "incoming" / "owls.md", "# Owls\n\nOwls hunt at night.\n")
    assert "added 1" in tiny_app.upload([str(note)])
    stored = tiny_app.upload_dir / "owls.md"
    assert stored.exists() and note.exists(), "the caller's file is never deleted"
    assert "Removed owls.md" in tiny_app.remove("uploads/owls.md")
    assert not stored.exists()
    read_only = chat_app.ChatApp(tiny_app.qa, read_only=True)
    documents = len(tiny_app.qa.documents)
    assert read_only.upload([str(note)]).startswith("⚠️ this app is read-only")
    assert read_only.remove(read_only.sources()[0]).startswith("⚠️ this app is read-only")
    assert len(tiny_app.qa.documents) == documents and not stored.exists()


def test_an_upload_making_more_passages_than_the_app_allows_is_skipped_and_the_index_kept(tmp_path, tiny_app):
    # "Bounded work": one upload of generated text took 490 s and multiplied the index.
    log = write(tmp_path / "incoming" / "log.txt", " ".join(f"Reading {i}: gauge {i} showed {i * 3} mm." for i in range(600)))
    limited = chat_app.ChatApp(tiny_app.qa, max_upload_passages=4)
    passages = len(tiny_app.qa)
    status = limited.upload([str(log)])
    assert "skipped log.txt: makes" in status and "more than the limit of 4 per file" in status
    assert len(tiny_app.qa) == passages
    assert chat_app.parse_args([]).max_upload_passages == chat_app.DEFAULT_MAX_UPLOAD_PASSAGES
    assert chat_app.parse_args(["--max-upload-passages", "20000"]).max_upload_passages == 20000
    for bad in ("0", "-3", "2.5", "many"):
        with pytest.raises(SystemExit):
            chat_app.parse_args(["--max-upload-passages", bad])


def test_uploads_stored_but_not_indexed_are_indexed_at_the_next_start(tmp_path, tiny_corpus, hashing_embedder, capsys):
    # Finding 5: an upload interrupted by a crash stayed in uploads/ unindexed, with no notice.
    from qa import QA

    index = tmp_path / "idx"
    QA.build([tiny_corpus], index_dir=index, embedder=hashing_embedder)
    write(index / "uploads" / "stranded.md", "# Stranded\n\nThe ferry was stranded by the storm.\n")
    reopened = chat_app.open_index(index, None)
    assert any(d.source.endswith("uploads/stranded.md") for d in reopened.documents)
    assert "uploads synced: added 1" in capsys.readouterr().out


def test_ask_takes_what_sliders_send_and_chat_reports_bad_input_as_a_message(tiny_app):
    assert tiny_app.ask("Which river is the longest in Africa?", k=2.0).citations
    reply, _ = tiny_app.chat(None, [], 5, "hybrid", 0.2)
    assert reply.startswith(chat_app.ERROR_PREFIX) and "the question must be text" in reply


def test_a_fractional_upload_cap_is_kept():
    assert chat_app.upload_limit_bytes(0.5) == 512 * 1024 and chat_app.upload_limit_bytes(20) == 20 * 1024 * 1024
    assert chat_app.parse_args(["--max-upload-mb", "0.5"]).max_upload_mb == 0.5
    for bad in ("0", "-1", "abc", "nan"):
        with pytest.raises(SystemExit):
            chat_app.parse_args(["--max-upload-mb", bad])


@pytest.fixture
def elsewhere():
    """Another origin that records every request reaching it (what "loading from elsewhere"
    would hit)."""
    import http.server
    import threading

    hits = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, *args):
            pass

    listener = http.server.ThreadingHTTPServer(("127.0.0.1", _free_port()), Recorder)
    thread = threading.Thread(target=listener.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{listener.server_address[1]}", "hits": hits}
    listener.shutdown()


@pytest.mark.browser
def test_browser_loads_nothing_from_elsewhere_for_typed_or_uploaded_markup(server, browser, tmp_path, elsewhere):
    # Finding 3 of "Safe to leave running": Markdown image syntax in a skip reason (a JSONL id),
    # in the remove error and in the user's own question made the browser request the URL.
    remote = elsewhere["url"]
    records = tmp_path / "dupes.jsonl"
    bad_id = f"![t]({remote}/t.png)"
    records.write_text(
        "\n".join(json.dumps({"id": bad_id, "text": f"Record {i} about lighthouses and their keepers."}) for i in range(2)) + "\n",
        encoding="utf-8",
    )
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server["url"])
    _ask(page, f"Who keeps the lighthouse? ![q]({remote}/q.png) <img src={remote}/i.png>")
    page.wait_for_timeout(1500)
    page.get_by_role("tab", name="Documents").click()
    page.locator("#upload input[type=file]").set_input_files(str(records))
    page.locator("#add-button").click()
    page.wait_for_function("document.querySelector('#upload-status') && /added|skipped|refused/.test(document.querySelector('#upload-status').innerText)", timeout=60_000)
    page.locator("#remove-choice input").fill(f"![r]({remote}/r.png)")
    page.locator("#remove-button").click()
    page.wait_for_timeout(1500)
    if page.locator("#remove-yes").is_visible():
        page.locator("#remove-yes").click()
        page.wait_for_timeout(1500)
    assert elsewhere["hits"] == []
    # And the page says what it may load: only its own origin.
    policy = page.evaluate("fetch(location.href).then(r => r.headers.get('content-security-policy'))")
    assert "img-src 'self' data: blob:" in policy and "default-src 'self'" in policy
    page.close()


def _guarded_client(**kwargs):
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    inner = Starlette(routes=[Route("/", lambda request: PlainTextResponse("ok"))])
    return TestClient(chat_app.SecurityHeaders(inner, **kwargs), base_url="http://127.0.0.1:7860")


def test_requests_for_another_host_or_from_another_origin_are_refused():
    client = _guarded_client(allowed_hosts=chat_app.allowed_hosts("127.0.0.1", []))
    ok = client.get("/")
    assert ok.status_code == 200 and "default-src 'self'" in ok.headers["content-security-policy"]
    assert client.get("/", headers={"Origin": "http://127.0.0.1:7860"}).status_code == 200  # the app's own pages
    # Finding 4 of "Safe to leave running": Host evil.example with a matching Origin was served.
    rebound = client.get("/", headers={"Host": "evil.example:7871", "Origin": "http://evil.example:7871"})
    assert rebound.status_code == 421 and "--allowed-host evil.example" in rebound.text
    assert client.get("/", headers={"Origin": "http://evil.example"}).status_code == 403
    # A name given with --allowed-host is served; binding 0.0.0.0 adds no name by itself.
    lan = _guarded_client(allowed_hosts=chat_app.allowed_hosts("0.0.0.0", ["qa.lan"]))
    assert lan.get("/", headers={"Host": "qa.lan:7860"}).status_code == 200
    assert lan.get("/", headers={"Host": "0.0.0.0:7860"}).status_code == 421


def test_auth_must_name_a_user_and_a_password():
    assert chat_app.parse_args(["--auth", "me:secret"]).auth == "me:secret"
    for bad in ("me", ":secret", "me:"):
        with pytest.raises(SystemExit):
            chat_app.parse_args(["--auth", bad])


def test_an_answer_withheld_by_a_raised_threshold_says_so_and_is_not_followed_up(tiny_app):
    question = "Which river is the longest in Africa?"
    assert tiny_app.ask(question).confidence >= 0.2  # answered at the default threshold
    reply, _ = tiny_app.chat(question, [], 5, "hybrid", 0.999)
    assert reply.startswith("No answer shown: its confidence ") and "below your threshold 1.00" in reply
    history = [{"role": "user", "content": question}, {"role": "assistant", "content": reply}]
    assert chat_app.answered_questions(history) == []
    declined, _ = tiny_app.chat("What is the airspeed of an unladen swallow on Jupiter?", [], 5, "hybrid", 0.2)
    assert declined.startswith("The indexed documents do not answer this question.")


def test_a_busy_port_is_one_line_naming_the_option():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit) as stopped:
            chat_app.check_port_free("127.0.0.1", port)
    message = str(stopped.value)
    assert f"port {port} on 127.0.0.1 is not free" in message and "--port N" in message and "\n" not in message


def test_the_page_says_what_is_loaded(tiny_app, tmp_path, hashing_embedder):
    from qa import QA

    assert tiny_app.serving_line() == f"Answering from **5 documents** ({len(tiny_app.qa)} passages) in the index **idx**."
    empty = chat_app.ChatApp(QA.create(index_dir=tmp_path / "empty", embedder=hashing_embedder))
    assert "is empty: add documents" in empty.serving_line()


def test_removal_question_names_what_would_go_and_refuses_what_cannot(tiny_app):
    name = next(n for n in tiny_app.sources() if n.endswith("rivers.md"))
    question = tiny_app.removal_question(name)
    from qa.presentation import inert_text

    assert question.startswith(f"Remove **{inert_text(name)}** and its ") and question.endswith("from the index? This cannot be undone.")
    assert tiny_app.removal_question("/").startswith("⚠️") and tiny_app.removal_question(None) == "Choose a document to remove."
    assert len(tiny_app.qa.documents) == 5, "asking changes nothing"


def test_collections_are_named_after_their_folders_and_must_differ(tmp_path):
    for name in ("a", "b"):
        (tmp_path / "all" / name).mkdir(parents=True)
        (tmp_path / "all" / name / "manifest.json").write_text("{}")
    (tmp_path / "all" / "not-an-index").mkdir()
    found = chat_app.collection_dirs([tmp_path / "x" / "main"], tmp_path / "all")
    assert [p.name for p in found] == ["main", "a", "b"]  # the folder without a manifest is no collection
    with pytest.raises(SystemExit, match="two collections would be named 'a'"):
        chat_app.collection_dirs([tmp_path / "elsewhere" / "a"], tmp_path / "all")
    with pytest.raises(SystemExit, match="no index directory in it"):
        chat_app.collection_dirs(None, tmp_path / "all" / "not-an-index")
    with pytest.raises(SystemExit, match="not a folder"):
        chat_app.collection_dirs(None, tmp_path / "missing")
    with pytest.raises(SystemExit):  # --docs builds one index, never several
        chat_app.parse_args(["--index", "a", "--index", "b", "--docs", "docs"])
    assert [p.name for p in chat_app.parse_args(["--index", "a", "--index", "b"]).index] == ["a", "b"]


def test_an_unknown_collection_is_refused_naming_the_ones_served(tiny_app):
    from qa import InputError

    collections = chat_app.Collections({"docs": tiny_app, "notes": tiny_app})
    assert collections.get(None) is collections.get("") is collections.get("docs") is tiny_app
    for bad in ("other", 3, ["docs"]):
        with pytest.raises(InputError, match="this app serves: docs, notes"):
            collections.get(bad)


@pytest.fixture(scope="module")
def two_collections(tmp_path_factory, seed_index, real_embedder):
    """The app serving the seed index and a second index of other documents."""
    from qa import QA

    root = tmp_path_factory.mktemp("collections")
    statement = root / "statement"
    shutil.copytree(seed_index, statement)
    docs = root / "garden-docs"
    write(docs / "bees.md", "# Bees\n\nA honey bee colony has one queen. The queen lays up to 2,000 eggs a day in spring.\n")
    write(docs / "soil.txt", "Soil\n\nClay soil holds water well but drains slowly. Adding compost improves its structure.\n")
    QA.build([docs], index_dir=root / "garden", embedder=real_embedder)
    with running_app(statement, "--index", str(root / "garden")) as url:
        yield url


def test_several_collections_each_endpoint_answers_from_the_one_named(two_collections):
    from gradio_client import Client

    client = Client(two_collections, verbose=False)
    assert [c["name"] for c in client.predict(api_name="/collections")] == ["statement", "garden"]
    bees = "How many eggs does the queen bee lay in a day?"
    garden = client.predict(question=bees, collection="garden", api_name="/ask")
    assert not garden["abstained"] and "2,000" in garden["text"] and garden["citations"][0]["source"].endswith("bees.md")
    default = client.predict(question=bees, api_name="/ask")  # the first collection: the statement
    assert default["abstained"] or all("bees" not in c["source"] for c in default["citations"])
    hits = client.predict(question="clay soil", k=3, collection="garden", api_name="/search")
    assert hits[0]["passage"]["source"].endswith("soil.txt")
    assert sorted(d["source"].rsplit("/", 1)[-1] for d in client.predict(collection="garden", api_name="/documents")) == ["bees.md", "soil.txt"]
    assert [d["source"].rsplit("/", 1)[-1] for d in client.predict(api_name="/documents")] == ["nato-dprk-statement.txt"]
    with pytest.raises(Exception, match="no collection 'orchard'; this app serves: statement, garden"):
        client.predict(question=bees, collection="orchard", api_name="/ask")
    # Each collection is a model of the OpenAI-compatible API.
    import openai

    api = openai.OpenAI(base_url=two_collections + "v1", api_key="unused-on-loopback-without-auth")
    assert [m.id for m in api.models.list()] == ["statement", "garden"]
    reply = api.chat.completions.create(model="garden", messages=[{"role": "user", "content": bees}])
    assert "2,000" in reply.choices[0].message.content and reply.model == "garden"
    with pytest.raises(openai.NotFoundError, match="statement, garden"):
        api.chat.completions.create(model="orchard", messages=[{"role": "user", "content": bees}])


@pytest.mark.browser
def test_browser_the_collection_selector_switches_what_is_answered_from(two_collections, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(two_collections)
    serving = page.locator("#serving")
    serving.get_by_text("statement").wait_for(timeout=30_000)
    _ask(page, "Which UN Security Council resolutions does the Russia-DPRK military cooperation violate?")
    page.wait_for_function("document.querySelector('#sources-panel').innerText.includes('nato-dprk')", timeout=60_000)
    page.locator("#collection input").click()
    page.get_by_role("option", name="garden").click()
    serving.get_by_text("garden").wait_for(timeout=30_000)
    assert "2 documents" in serving.inner_text()
    # A new conversation: the statement's answer is gone, and so is its Sources panel.
    page.wait_for_function("!document.querySelector('#chat').innerText.includes('2270')", timeout=30_000)
    assert "nato-dprk" not in page.locator("#sources-panel").inner_text()
    page.get_by_text("Settings").first.click()
    page.locator("#setting-documents input").click()
    assert page.get_by_role("option", name="garden-docs/bees.md").count() == 1  # the picker lists this collection's documents
    page.keyboard.press("Escape")
    _ask(page, "How many eggs does the queen bee lay in a day?")
    page.wait_for_function("document.querySelector('#sources-panel').innerText.includes('bees.md')", timeout=60_000)
    assert "2,000" in page.locator("#chat").inner_text()
    page.get_by_role("tab", name="Documents").click()
    assert "soil.txt" in page.locator("#documents").inner_text()
    # A reload keeps the chosen collection (and lists the conversation to go back to).
    page.wait_for_function("localStorage.getItem('grounded-qa-collection') !== null", timeout=30_000)
    page.reload()
    page.locator("#serving").get_by_text("garden").wait_for(timeout=30_000)
    assert page.locator("#collection input").input_value() == "garden"
    page.wait_for_function("document.body.innerText.includes('How many eggs does the queen bee lay')", timeout=30_000)
    page.get_by_role("tab", name="Documents").click()
    page.wait_for_function("document.querySelector('#documents').innerText.includes('soil.txt')", timeout=30_000)
    page.close()


def test_an_index_served_without_docs_shows_names_relative_to_its_documents_folder_never_server_paths(tiny_app, tiny_corpus):
    assert not tiny_app.roots
    assert "docs/cats.txt" in tiny_app.sources() and all(name.startswith("docs/") for name in tiny_app.sources())
    reply, panel, citations, plain = tiny_app.chat_turn("How long is the Nile?", [], 3, "hybrid", 0.0)
    assert citations and "docs/rivers.md" in panel
    for shown in (reply, panel, plain):
        assert str(tiny_corpus) not in shown and str(tiny_corpus.parent) not in shown


def test_a_missing_index_is_refused_with_the_command_that_builds_it(tmp_path):
    with pytest.raises(SystemExit, match=r"no index at .*missing; build it with: qa index DOCS --index .*missing"):
        chat_app.open_index(tmp_path / "missing", None)
