"""The OpenAI chat-completions protocol in front of grounded answers.

Chat clients that speak the OpenAI API (the official ``openai`` package, chat front ends, agent
frameworks) can use a grounded-qa app as a "model": ``GET /v1/models`` lists what it answers
from, ``POST /v1/chat/completions`` takes the conversation and returns the grounded answer as
the assistant message — the quoted sentences with their ``[n]`` markers and a line per source —
with the citations as structured data beside it (``citations``) and what was searched, whether
it abstained and how confident it is (``grounding``): fields the protocol lets clients ignore.
An abstention is an ordinary answer that says the documents do not answer. ``stream: true``
sends the same answer as server-sent events.

The protocol work is pure (:func:`parse_chat_request`, :func:`completion`,
:func:`completion_events`); :func:`router` puts it behind FastAPI routes given a function that
answers a :class:`ChatRequest`. Errors are OpenAI-style error objects with the right status:
400 for a malformed request, 401 for a missing or wrong API key, 404 for an unknown model.

>>> request = parse_chat_request({"model": "docs", "messages": [{"role": "user", "content": "Hi?"}]}, models=["docs"])
>>> request.question, request.history, request.stream
('Hi?', (), False)
"""

# No ``from __future__ import annotations`` here: FastAPI reads the routes' ``Request``
# annotations at run time, and they are imported inside :func:`router`.
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, Sequence

MAX_REQUEST_BYTES = 1_000_000
MAX_K = 20


class OpenAIError(Exception):
    """A request refused with an OpenAI-style error object (``status``, ``message``, ``param``,
    ``code``)."""

    def __init__(self, status: int, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code

    def body(self) -> dict[str, Any]:
        kind = "authentication_error" if self.status == 401 else "invalid_request_error"
        return {"error": {"message": self.message, "type": kind, "param": self.param, "code": self.code}}


@dataclass(frozen=True)
class ChatRequest:
    """What a chat-completions request asks: the latest user message, the conversation before it
    (role/content dicts, for follow-ups), how many passages to cite, whether to stream, and the
    metadata ``filters`` the answer must come from (:mod:`qa.retrieval.filters`)."""

    model: str
    question: str
    history: tuple[dict[str, str], ...]
    k: int = 5
    stream: bool = False
    filters: Mapping[str, Any] | None = None


def _content_text(content: Any, index: int) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(part, dict) for part in content):
        texts = [part.get("text") for part in content if part.get("type") == "text"]
        if texts and all(isinstance(t, str) for t in texts):
            return "\n".join(texts)
    raise OpenAIError(400, f"messages[{index}].content must be text (a string or a list of text parts)", param=f"messages[{index}].content")


def parse_chat_request(body: Any, *, models: Sequence[str]) -> ChatRequest:
    """Check a decoded request body and say what it asks; a bad one raises :class:`OpenAIError`.

    >>> parse_chat_request({"model": "x", "messages": []}, models=["docs"])
    Traceback (most recent call last):
    ...
    qa.openai_api.OpenAIError: the model 'x' does not exist; this server answers from: docs
    """
    if not isinstance(body, dict):
        raise OpenAIError(400, "the request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise OpenAIError(400, "'model' is required: one of " + ", ".join(models), param="model")
    if model not in models:
        raise OpenAIError(404, f"the model {model!r} does not exist; this server answers from: {', '.join(models)}", param="model", code="model_not_found")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise OpenAIError(400, "'messages' must be a non-empty list of {role, content} objects", param="messages")
    conversation = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("system", "developer", "user", "assistant", "tool"):
            raise OpenAIError(400, f"messages[{i}] must be an object with a role (system, user, assistant) and content", param=f"messages[{i}]")
        if message["role"] in ("user", "assistant"):
            conversation.append({"role": message["role"], "content": _content_text(message.get("content"), i)})
    if not conversation or conversation[-1]["role"] != "user":
        raise OpenAIError(400, "the last message must be the user's question", param="messages")
    question = conversation[-1]["content"]
    if not question.strip():
        raise OpenAIError(400, "the user's question is empty", param="messages")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise OpenAIError(400, f"'stream' must be true or false, got {stream!r}", param="stream")
    k = body.get("k", body.get("n_citations", 5))
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise OpenAIError(400, f"'k' (passages to cite) must be a whole number from 1 to {MAX_K}, got {k!r}", param="k")
    filters = body.get("filters")
    if filters is not None and not isinstance(filters, dict):
        raise OpenAIError(400, f"'filters' must be an object of key: value, got {filters!r}", param="filters")
    return ChatRequest(model=model, question=question, history=tuple(conversation[:-1]), k=k, stream=stream, filters=filters)


@dataclass(frozen=True)
class GroundedReply:
    """What the answerer gives back: the text of the assistant message, its citations (dicts as
    clients see them) and ``grounding`` (``query`` searched, ``abstained``, ``confidence``)."""

    text: str
    citations: tuple[Mapping[str, Any], ...] = ()
    grounding: Mapping[str, Any] | None = None


def completion(reply: GroundedReply, *, model: str, completion_id: str | None = None, created: int | None = None) -> dict[str, Any]:
    """A ``chat.completion`` object holding ``reply``.

    >>> body = completion(GroundedReply("Yes. [1]", ({"number": 1},), {"abstained": False}), model="docs")
    >>> body["choices"][0]["message"], body["citations"], body["grounding"]
    ({'role': 'assistant', 'content': 'Yes. [1]'}, [{'number': 1}], {'abstained': False})
    """
    return {
        "id": completion_id or f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(created if created is not None else time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},  # no language model ran
        "citations": [dict(c) for c in reply.citations],
        "grounding": dict(reply.grounding or {}),
    }


def completion_events(reply: GroundedReply, *, model: str, words_per_chunk: int = 8) -> Iterator[str]:
    """The same answer as server-sent ``chat.completion.chunk`` events, ending with ``[DONE]``;
    the last chunk carries the citations and the grounding.

    >>> events = list(completion_events(GroundedReply("One two three."), model="docs", words_per_chunk=2))
    >>> [json.loads(e[6:])["choices"][0]["delta"].get("content") for e in events[:-1]]
    [None, 'One two ', 'three.', None]
    >>> events[-1]
    'data: [DONE]\\n\\n'
    """
    base = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk", "created": int(time.time()), "model": model}

    def event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        chunk = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    yield event({"role": "assistant"})
    words = reply.text.split(" ")
    for start in range(0, len(words), words_per_chunk):
        part = " ".join(words[start : start + words_per_chunk])
        yield event({"content": part + (" " if start + words_per_chunk < len(words) else "")})
    yield event({}, "stop", citations=[dict(c) for c in reply.citations], grounding=dict(reply.grounding or {}))
    yield "data: [DONE]\n\n"


def key_matches(header: str | None, api_key: str) -> bool:
    """Whether an ``Authorization`` header carries ``api_key`` as a bearer token (constant time).

    >>> key_matches("Bearer s3cret", "s3cret"), key_matches("Bearer nope", "s3cret"), key_matches(None, "s3cret")
    (True, False, False)
    """
    if not header or not header.lower().startswith("bearer "):
        return False
    return hmac.compare_digest(header[7:].strip().encode(), api_key.encode())


def router(
    answer: Callable[[ChatRequest], GroundedReply],
    *,
    models: Sequence[str],
    api_key: str | None,
    open_without_key: bool = True,
    log: Callable[[str], None] = lambda line: None,
):
    """FastAPI routes under ``/v1``. ``answer(request)`` gives the :class:`GroundedReply` (it runs
    in a worker thread). With ``api_key`` every call must send it as a bearer token;
    without one, calls are refused unless ``open_without_key`` (an app that asks for a login
    must not serve this API to anyone without it)."""
    from fastapi import APIRouter, Request
    from fastapi.responses import JSONResponse, StreamingResponse
    from starlette.concurrency import run_in_threadpool

    routes = APIRouter(prefix="/v1")

    def refuse(error: OpenAIError) -> JSONResponse:
        log(f"/v1 refused ({error.status}): {error.message}")
        return JSONResponse(error.body(), status_code=error.status)

    def authorise(request: Request) -> None:
        if api_key is not None:
            if not key_matches(request.headers.get("authorization"), api_key):
                raise OpenAIError(401, "a valid API key is required: send it as 'Authorization: Bearer KEY' (the app's --api-key)", code="invalid_api_key")
        elif not open_without_key:
            raise OpenAIError(401, "this app asks for a login; start it with --api-key KEY to use the OpenAI-compatible API", code="invalid_api_key")

    @routes.get("/models")
    async def list_models(request: Request):
        try:
            authorise(request)
        except OpenAIError as error:
            return refuse(error)
        return {"object": "list", "data": [{"id": name, "object": "model", "created": 0, "owned_by": "grounded-qa"} for name in models]}

    @routes.post("/chat/completions")
    async def chat_completions(request: Request):
        try:
            authorise(request)
            raw = await request.body()
            if len(raw) > MAX_REQUEST_BYTES:
                raise OpenAIError(413, f"the request is {len(raw):,} bytes; at most {MAX_REQUEST_BYTES:,} are accepted")
            try:
                body = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise OpenAIError(400, f"the request body is not valid JSON ({exc})") from None
            chat = parse_chat_request(body, models=models)
            reply = await run_in_threadpool(answer, chat)
        except OpenAIError as error:
            return refuse(error)
        if chat.stream:
            return StreamingResponse(completion_events(reply, model=chat.model), media_type="text/event-stream")
        return completion(reply, model=chat.model)

    return routes
