from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from kaohe.chain import GENESIS, Entry, canonical, link, verify

payloads = st.lists(
    st.dictionaries(st.sampled_from(["who", "what", "amount", "n"]), st.integers() | st.text(max_size=8)),
    min_size=1,
    max_size=8,
)


def chain(ps: list[dict]) -> list[Entry]:
    out, prev = [], GENESIS
    for p in ps:
        h = link(prev, p)
        out.append(Entry(p, prev, h))
        prev = h
    return out


@given(payloads)
def test_an_untouched_chain_verifies(ps: list[dict]) -> None:
    v = verify(chain(ps))
    assert v.ok and v.checked == len(ps)


@given(payloads, st.data())
def test_any_modified_payload_is_found_where_it_happened(ps: list[dict], data: st.DataObject) -> None:
    entries = chain(ps)
    i = data.draw(st.integers(0, len(entries) - 1))
    forged = {**entries[i].payload, "forged": True}
    entries[i] = Entry(forged, entries[i].prev_hash, entries[i].hash)
    v = verify(entries)
    assert not v.ok and v.broken_at == i and v.reason == "modified"


@given(payloads, st.data())
def test_a_deleted_entry_unlinks_the_next(ps: list[dict], data: st.DataObject) -> None:
    entries = chain([*ps, {"last": 1}])
    i = data.draw(st.integers(0, len(entries) - 2))
    del entries[i]
    v = verify(entries)
    assert not v.ok and v.broken_at == i and v.reason == "unlinked"


def test_canonical_form_is_stable_across_key_order_and_types() -> None:
    a = {"b": Decimal("10.50"), "a": datetime(2026, 1, 2, tzinfo=UTC), "c": "城区"}
    assert canonical(a) == canonical(dict(reversed(list(a.items()))))
    assert canonical(a) == '{"a":"2026-01-02T00:00:00+00:00","b":"10.50","c":"城区"}'.encode()


def test_empty_chain_is_ok() -> None:
    assert verify([]).ok and verify([]).checked == 0
