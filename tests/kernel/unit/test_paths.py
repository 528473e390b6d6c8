import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from kaohe.contracts import paths
from kaohe.identity import Caller, Role

segment = st.text(alphabet="abcxyz019_%-", min_size=1, max_size=4)
tree_path = st.lists(segment, min_size=1, max_size=4).map(lambda s: "/" + "/".join(s) + "/")


@given(tree_path, tree_path)
def test_range_is_exactly_the_prefix_subtree(root: str, other: str) -> None:
    lo, hi = paths.bounds(root)
    in_range = lo.encode() <= other.encode() < hi.encode()
    assert in_range == other.startswith(root) == paths.within(other, root)


def test_underscore_is_not_a_wildcard() -> None:
    lo, hi = paths.bounds("/14/t_1/")
    assert not (lo <= "/14/tx1/" < hi)
    assert lo <= "/14/t_1/v/" < hi


def test_caller_covers_its_subtree_only() -> None:
    county = Caller(user_id="u", roles=frozenset({Role.reporter}), org_path="/14/1405/")
    assert county.covers("/14/1405/") and county.covers("/14/1405/140502/")
    assert not county.covers("/14/14051/")  # a sibling whose id starts with the caller's
    assert not county.covers("/14/")
    for bad in ("/14/1405", "14/1405/", "", "//"):
        with pytest.raises(ValidationError):
            Caller(user_id="u", roles=frozenset({Role.reporter}), org_path=bad)
