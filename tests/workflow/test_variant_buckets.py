"""A/B buckets: the same in SQL as in Python, and not patterned by account id (import order)."""

from __future__ import annotations

from statistics import mean

from sqlalchemy import BigInteger, literal, select

from backend.container import Container
from backend.workflow.variants import bucket, bucket_sql

IDS = range(1, 301)


async def test_sql_buckets_equal_python_buckets(container: Container) -> None:
    columns = [bucket_sql("d+1", literal(i, BigInteger())) for i in IDS]
    async with container.sessions() as session:
        row = (await session.execute(select(*columns))).one()
    assert list(row) == [bucket(i, "d+1") for i in IDS]


def test_neighbouring_ids_do_not_step_through_the_buckets_in_a_pattern() -> None:
    # The old multiplicative hash moved one bucket every third id (66, 27, 97, 58, 28, 98 …):
    # ids 1-39 put exactly every third id in the 33 % variant.
    ids = range(1, 3001)
    near = sum(1 for i in ids if abs(bucket(i + 3, "d+1") - bucket(i, "d+1")) <= 2)
    assert near / len(ids) < 0.15


def test_the_split_does_not_follow_import_order() -> None:
    ids = range(1, 3001)
    plain = [i for i in ids if bucket(i, "d+1") < 33]
    rest = [i for i in ids if bucket(i, "d+1") >= 33]
    assert 0.28 < len(plain) / len(ids) < 0.38
    assert abs(mean(plain) - mean(rest)) < 0.05 * len(ids)
    for start in range(1, 3001, 300):  # every batch of 300 imported together
        share = sum(1 for i in range(start, start + 300) if bucket(i, "d+1") < 33) / 300
        assert 0.2 < share < 0.46
