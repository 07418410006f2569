"""The OpenAI chat-completions protocol: request checks, the response and its event stream."""

import json

import pytest

from qa.openai_api import ChatRequest, GroundedReply, OpenAIError, completion, completion_events, key_matches, parse_chat_request

MODELS = ["docs"]


def _user(text):
    return {"role": "user", "content": text}


def test_a_request_gives_the_latest_question_and_the_conversation_before_it():
    body = {
        "model": "docs",
        "messages": [
            {"role": "system", "content": "Be brief."},
            _user("Which countries joined?"),
            {"role": "assistant", "content": "Japan and Korea. [1]"},
            {"role": "user", "content": [{"type": "text", "text": "and when"}, {"type": "text", "text": "was it?"}]},
        ],
        "stream": True,
        "k": 3,
        "filters": {"kind": "pdf"},
    }
    request = parse_chat_request(body, models=MODELS)
    assert request == ChatRequest(
        model="docs",
        question="and when\nwas it?",
        history=({"role": "user", "content": "Which countries joined?"}, {"role": "assistant", "content": "Japan and Korea. [1]"}),
        k=3,
        stream=True,
        filters={"kind": "pdf"},
    )


@pytest.mark.parametrize(
    "body, status, message",
    [
        ([], 400, "must be a JSON object"),
        ({"messages": [_user("q")]}, 400, "'model' is required"),
        ({"model": "gpt-4", "messages": [_user("q")]}, 404, "the model 'gpt-4' does not exist; this server answers from: docs"),
        ({"model": "docs"}, 400, "'messages' must be a non-empty list"),
        ({"model": "docs", "messages": []}, 400, "'messages' must be a non-empty list"),
        ({"model": "docs", "messages": ["hi"]}, 400, "messages[0] must be an object with a role"),
        ({"model": "docs", "messages": [{"role": "wizard", "content": "q"}]}, 400, "messages[0] must be an object with a role"),
        ({"model": "docs", "messages": [{"role": "user", "content": 42}]}, 400, "messages[0].content must be text"),
        ({"model": "docs", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, 400, "messages[0].content must be text"),
        ({"model": "docs", "messages": [_user("q"), {"role": "assistant", "content": "a"}]}, 400, "the last message must be the user's question"),
        ({"model": "docs", "messages": [_user("   ")]}, 400, "the user's question is empty"),
        ({"model": "docs", "messages": [_user("q")], "stream": "yes"}, 400, "'stream' must be true or false"),
        ({"model": "docs", "messages": [_user("q")], "k": 0}, 400, "'k' (passages to cite) must be a whole number from 1 to 20"),
        ({"model": "docs", "messages": [_user("q")], "k": True}, 400, "'k' (passages to cite)"),
        ({"model": "docs", "messages": [_user("q")], "k": 2.5}, 400, "'k' (passages to cite)"),
        ({"model": "docs", "messages": [_user("q")], "filters": ["kind", "pdf"]}, 400, "'filters' must be an object"),
    ],
)
def test_a_bad_request_is_refused_with_an_openai_error_object(body, status, message):
    with pytest.raises(OpenAIError) as refused:
        parse_chat_request(body, models=MODELS)
    assert refused.value.status == status and message in refused.value.message
    error = refused.value.body()["error"]
    assert error["message"] == refused.value.message and error["type"] in ("invalid_request_error", "authentication_error")


def test_the_response_and_the_stream_carry_the_same_answer_and_its_citations():
    reply = GroundedReply(
        text="Australia, Japan and New Zealand joined it. [1]\n\n[1] Statement — sample/nato.txt",
        citations=({"number": 1, "source": "sample/nato.txt"},),
        grounding={"query": "Which countries joined?", "abstained": False, "confidence": 0.9},
    )
    body = completion(reply, model="docs")
    assert body["object"] == "chat.completion" and body["model"] == "docs"
    assert body["choices"] == [{"index": 0, "message": {"role": "assistant", "content": reply.text}, "finish_reason": "stop"}]
    assert body["citations"] == [{"number": 1, "source": "sample/nato.txt"}] and body["grounding"]["confidence"] == 0.9
    events = list(completion_events(reply, model="docs", words_per_chunk=3))
    assert events[-1] == "data: [DONE]\n\n" and all(e.startswith("data: ") and e.endswith("\n\n") for e in events)
    chunks = [json.loads(e[len("data: ") :]) for e in events[:-1]]
    assert {c["id"] for c in chunks} == {chunks[0]["id"]} and all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant"}
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == reply.text
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["citations"] == body["citations"]
    assert chunks[-1]["grounding"] == body["grounding"]


def test_the_api_key_is_a_bearer_token():
    assert key_matches("Bearer k3y", "k3y") and key_matches("bearer   k3y ", "k3y")
    for header in (None, "", "k3y", "Basic k3y", "Bearer k3", "Bearer k3yy"):
        assert not key_matches(header, "k3y")


def _served(**kwargs):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from qa.openai_api import router

    asked = []

    def answer(request):
        asked.append(request)
        return GroundedReply(f"You asked: {request.question}")

    app = FastAPI()
    app.include_router(router(answer, models=MODELS, **kwargs))
    return TestClient(app), asked


def test_an_app_that_asks_for_a_login_serves_this_api_only_with_a_key():
    client, asked = _served(api_key=None, open_without_key=False)
    refused = client.post("/v1/chat/completions", json={"model": "docs", "messages": [_user("q")]})
    assert refused.status_code == 401 and "start it with --api-key" in refused.json()["error"]["message"]
    assert client.get("/v1/models").status_code == 401 and asked == []
    keyed, asked = _served(api_key="k" * 16)
    assert keyed.get("/v1/models", headers={"Authorization": "Bearer " + "k" * 16}).json()["data"][0]["id"] == "docs"
    assert keyed.get("/v1/models", headers={"Authorization": "Bearer nope"}).status_code == 401
    ok = keyed.post("/v1/chat/completions", json={"model": "docs", "messages": [_user("q?")]}, headers={"Authorization": "Bearer " + "k" * 16})
    assert ok.json()["choices"][0]["message"]["content"] == "You asked: q?" and len(asked) == 1
