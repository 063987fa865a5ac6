"""How long each list field may be, declared with Federation's ``@listSize`` so the router and
the subgraphs estimate an operation's cost from the same SDL (see ``resolvers.limits``).

A paged field is as long as its ``first`` argument says, and the length applies to its
``edges``; a list without paging declares how long it gets in practice.
"""

import strawberry
from strawberry.federation.schema_directives import ListSize

PAGED = ListSize(slicing_arguments=["first"], sized_fields=["edges"], assumed_size=strawberry.UNSET)


def assumed(size: int) -> ListSize:
    """A list without paging that holds about ``size`` items at most (a cart's lines, a
    profile's addresses)."""
    return ListSize(assumed_size=size, slicing_arguments=strawberry.UNSET, sized_fields=strawberry.UNSET)
