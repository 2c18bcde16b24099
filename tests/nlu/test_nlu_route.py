"""POST /model/parse on a tiny app whose container holds a real embedded interpreter.

The API key it requires is checked in test_nlu_route_auth.py; here it is taken as given.
"""

from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI
from nlu_fixtures import write_small_data

from backend.api.deps import require_api_key_or_token
from backend.api.routes.nlu import router
from nlu.runtime import NluConfig, build_interpreter


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    base = tmp_path_factory.mktemp("nlu_route")
    config = NluConfig(model_dir=base / "models", data_dir=write_small_data(base / "data"))
    application = FastAPI()
    application.include_router(router)
    application.state.container = SimpleNamespace(interpreter=build_interpreter(config))
    application.dependency_overrides[require_api_key_or_token] = _any_key
    return application


def _any_key() -> None:
    return None


async def _post(app, body):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.post("/model/parse", json=body)


async def test_parse_returns_rasa_shape(app):
    response = await _post(app, {"text": "ill pay $50 tomorrow",
                                 "reference_time": "2026-11-25T23:30:00-05:00",
                                 "timezone": "America/New_York"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"text", "intent", "intent_ranking", "entities"}
    assert body["intent"]["name"] == "promise_to_pay"
    assert 0 < body["intent"]["confidence"] <= 1
    assert body["entities"] == [
        {"entity": "amount", "value": "50.00", "start": 8, "end": 11, "extractor": "parley",
         "currency": "USD"},
        {"entity": "date", "value": "2026-11-26", "start": 12, "end": 20, "extractor": "parley"},
    ]


@pytest.mark.parametrize("body", [{}, {"text": ""}, {"text": "hi", "timezone": "Mars/Base"}])
async def test_rejects_bad_requests(app, body):
    assert (await _post(app, body)).status_code == 422


async def test_503_without_interpreter():
    bare = FastAPI()
    bare.include_router(router)
    bare.dependency_overrides[require_api_key_or_token] = _any_key
    assert (await _post(bare, {"text": "hi"})).status_code == 503
