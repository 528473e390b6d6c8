from hypothesis import given
from hypothesis import strategies as st

from kaohe.contracts import paths

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
