"""The reports API: API-key auth, JSON figures, CSV tables, filters and their validation."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from backend.container import Container
from tests.reports.dataset import Seeded, add_euro_account

PATHS = ["/api/reports/recovery", "/api/reports/outcomes", "/api/reports/automation",
         "/api/reports/nlu", "/api/reports/strategy"]


@pytest.mark.parametrize("path", PATHS)
async def test_reports_need_a_valid_api_key(client: httpx.AsyncClient, path: str) -> None:
    assert (await client.get(path)).status_code == 401
    bad = {"Authorization": "Bearer pk_not-a-key"}
    assert (await client.get(path, headers=bad)).status_code == 401


async def test_recovery_as_json(
    client: httpx.AsyncClient, auth: dict[str, str], seeded: Seeded
) -> None:
    response = await client.get("/api/reports/recovery", headers=auth,
                                params={"start": "2026-11-01", "end": "2026-11-30"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["filter"] == {"start": "2026-11-01", "end": "2026-11-30", "portfolio_id": None,
                              "creditor_id": None, "currency": None}
    assert body["as_of"] == "2026-11-25"
    assert body["totals"] == [{"key": "all", "label": "all", "accounts": 4, "placed": "3800.00",
                               "collected": "950.00", "recovery_rate": "0.2500"}]
    assert [w["week"] for w in body["collected_by_week"]] == [
        "2026-11-02", "2026-11-09", "2026-11-16"
    ]


async def test_recovery_table_as_csv(
    client: httpx.AsyncClient, auth: dict[str, str], seeded: Seeded
) -> None:
    response = await client.get("/api/reports/recovery", headers=auth,
                                params={"format": "csv", "table": "by_creditor"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="recovery-by_creditor.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["label"], r["placed"], r["collected"], r["recovery_rate"]) for r in rows] == [
        ("Acme Bank", "3500.00", "900.00", "0.2571"), ("Beta Telco", "399.99", "59.99", "0.1500")
    ]


async def test_each_report_has_a_default_csv_table(
    client: httpx.AsyncClient, auth: dict[str, str], seeded: Seeded
) -> None:
    heads = {}
    for path in PATHS:
        response = await client.get(path, headers=auth, params={"format": "csv"})
        assert response.status_code == 200, response.text
        heads[path] = response.text.splitlines()[0]
    assert heads == {
        "/api/reports/recovery": "key,label,accounts,placed,collected,recovery_rate",
        "/api/reports/outcomes": "metric,numerator,denominator,rate",
        "/api/reports/automation": (
            "queue,reason,handoffs,claimed,closed,target_seconds,within_target,"
            "within_target_rate,avg_first_response_seconds,max_first_response_seconds"
        ),
        "/api/reports/nlu": (
            "intent,messages,share,low_confidence,low_confidence_rate,avg_confidence"
        ),
        "/api/reports/strategy": (
            "strategy,step,variant,sent,delivered,replied,promised,paid,collected,"
            "delivery_rate,reply_rate,promise_rate,pay_rate,collected_per_send"
        ),
    }


async def test_outcomes_automation_and_nlu_as_json(
    client: httpx.AsyncClient, auth: dict[str, str], seeded: Seeded
) -> None:
    params = {"portfolio_id": seeded.mobile}
    outcomes = (await client.get("/api/reports/outcomes", headers=auth, params=params)).json()
    assert {r["metric"]: r["rate"] for r in outcomes["rates"]}["right_party_contact"] == "0.5000"
    automation = (await client.get("/api/reports/automation", headers=auth,
                                   params={"target_seconds": 300})).json()
    assert {h["queue"]: h["within_target"] for h in automation["handoffs"]} == {
        "complaints": 1, "disputes": 0, "hardship": 0, "unmatched": 0
    }
    nlu = (await client.get("/api/reports/nlu", headers=auth)).json()
    assert nlu["threshold"] == 0.5
    assert nlu["summary"][0]["low_confidence"] == 3
    nlu = (await client.get("/api/reports/nlu", headers=auth, params={"threshold": 0.8})).json()
    assert nlu["summary"][0]["low_confidence"] == 4


async def test_strategy_as_json_and_csv(
    client: httpx.AsyncClient, auth: dict[str, str], seeded: Seeded
) -> None:
    params = {"start": "2026-11-01", "end": "2026-11-30", "window_days": "1"}
    body = (await client.get("/api/reports/strategy", headers=auth, params=params)).json()
    assert body["window_days"] == 1
    assert body["totals"][0]["sent"] == 5
    assert body["steps"][0] == {
        "strategy": "default", "step": "d+1", "variant": "helpful", "sent": 1, "delivered": 1,
        "replied": 1, "promised": 0, "paid": 0, "collected": "0.00", "delivery_rate": "1.0000",
        "reply_rate": "1.0000", "promise_rate": "0.0000", "pay_rate": "0.0000",
        "collected_per_send": "0.00",
    }
    response = await client.get("/api/reports/strategy", headers=auth,
                                params={"format": "csv", "portfolio_id": seeded.mobile})
    assert 'filename="strategy-steps.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["step"], r["variant"], r["sent"], r["paid"], r["collected"]) for r in rows] == [
        ("d+1", "helpful", "1", "1", "9.99"), ("d+1", "plain", "1", "1", "50.00")
    ]


@pytest.mark.parametrize("params", [{"window_days": "0"}, {"window_days": "91"}])
async def test_strategy_window_is_bounded(
    client: httpx.AsyncClient, auth: dict[str, str], params: dict[str, str]
) -> None:
    response = await client.get("/api/reports/strategy", headers=auth, params=params)
    assert response.status_code == 422


@pytest.mark.parametrize("params", [
    {"start": "2026-11-30", "end": "2026-11-01"},
    {"start": "not-a-date"},
    {"format": "xlsx"},
    {"format": "csv", "table": "nope"},
    {"end": "9999-12-31"},
])
async def test_bad_queries_get_422(
    client: httpx.AsyncClient, auth: dict[str, str], params: dict[str, str]
) -> None:
    response = await client.get("/api/reports/recovery", headers=auth, params=params)
    assert response.status_code == 422, response.text


async def test_money_adds_up_within_the_currency_asked_for(
    client: httpx.AsyncClient, auth: dict[str, str], seeded: Seeded, container: Container
) -> None:
    async with container.sessions.begin() as session:
        await add_euro_account(session, seeded)
    params = {"start": "2026-11-01", "end": "2026-11-30"}

    async def totals(**extra: str) -> dict[str, object]:
        response = await client.get("/api/reports/recovery", headers=auth,
                                    params={**params, **extra})
        assert response.status_code == 200, response.text
        [row] = response.json()["totals"]
        return dict(row)

    usd, eur = await totals(currency="usd"), await totals(currency="EUR")
    assert (usd["accounts"], usd["placed"], usd["collected"]) == (4, "3800.00", "950.00")
    assert (eur["accounts"], eur["placed"], eur["collected"]) == (1, "500.00", "100.00")
    mixed = await totals()
    assert mixed["placed"] == "4300.00"  # what "all currencies" means: the pages warn of it
    bad = await client.get("/api/reports/recovery", headers=auth, params={"currency": "euro"})
    assert bad.status_code == 422
