"""Rasa backend against a fake Rasa server on 127.0.0.1, including timeout fallback."""

import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from nlu.rasa_client import RasaInterpreter
from nlu.types import IntentScore, Parse

REF = datetime(2026, 11, 25, 12, tzinfo=UTC)


class _FakeRasa(BaseHTTPRequestHandler):
    mode = "ok"
    seen: list[dict] = []

    def do_POST(self):  # noqa: N802 — http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _FakeRasa.seen.append({"path": self.path, "body": body})
        if _FakeRasa.mode == "slow":
            time.sleep(0.5)
        if _FakeRasa.mode == "error":
            self.send_response(500)
            self.end_headers()
            return
        text = body["text"]
        start = text.index("fifty")
        answer = {
            "text": text,
            "intent": {"name": "pay_partial", "confidence": 0.91},
            "intent_ranking": [{"name": "pay_partial", "confidence": 0.91},
                               {"name": "nlu_fallback", "confidence": 0.05}],
            "entities": [{"entity": "amount", "start": start, "end": start + 5,
                          "value": "fifty", "extractor": "DIETClassifier"}],
        }
        payload = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


class _Fallback:
    async def parse(self, text, *, reference_time, timezone=None, language=None):
        return Parse(text, IntentScore("greet", 1.0), (IntentScore("greet", 1.0),),
                     extra={"backend": "embedded"})


@pytest.fixture
def rasa_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeRasa)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _FakeRasa.mode, _FakeRasa.seen = "ok", []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def test_maps_rasa_answer_and_normalizes_entities(rasa_url):
    rasa = RasaInterpreter(rasa_url, _Fallback(), timeout=2.0)
    parse = await rasa.parse("i can do fifty now and $20 on fri", reference_time=REF)
    await rasa.aclose()
    assert _FakeRasa.seen[0] == {"path": "/model/parse",
                                 "body": {"text": "i can do fifty now and $20 on fri"}}
    assert parse.intent == IntentScore("pay_partial", 0.91)
    assert [s.name for s in parse.ranking] == ["pay_partial", "out_of_scope"]
    assert [(e.entity, e.value) for e in parse.entities] == [
        ("amount", "50.00"), ("amount", "20.00"), ("date", "2026-11-27")]


@pytest.mark.parametrize("mode", ["slow", "error"])
async def test_falls_back_to_embedded_on_timeout_or_error(rasa_url, mode, caplog):
    _FakeRasa.mode = mode
    rasa = RasaInterpreter(rasa_url, _Fallback(), timeout=0.1)
    parse = await rasa.parse("hi fifty", reference_time=REF)
    await rasa.aclose()
    assert parse.extra == {"backend": "embedded"}
    assert "using the embedded NLU model" in caplog.text


async def test_falls_back_when_nothing_listens():
    rasa = RasaInterpreter("http://127.0.0.1:9", _Fallback(), timeout=0.5)
    parse = await rasa.parse("hello", reference_time=REF)
    await rasa.aclose()
    assert parse.intent.name == "greet"


async def test_the_conversations_language_reads_a_bare_date(rasa_url):
    rasa = RasaInterpreter(rasa_url, _Fallback(), timeout=2.0)
    spanish = await rasa.parse("fifty 5/12", reference_time=REF, language="es")
    english = await rasa.parse("fifty 5/12", reference_time=REF, language="en")
    await rasa.aclose()
    assert [(e.entity, e.value) for e in spanish.entities if e.entity == "date"] == [
        ("date", "2026-12-05")]
    assert [(e.entity, e.value) for e in english.entities if e.entity == "date"] == [
        ("date", "2027-05-12")]
