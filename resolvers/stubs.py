"""Federation stubs: another subgraph's entity referenced by key only. A subgraph returns
``Product(id=...)`` and the router fetches the fields from the owner."""

from strawberry.federation.schema_directives import Key
from strawberry.federation.types import FieldSet

STUB_KEY = [Key(fields=FieldSet("id"), resolvable=False)]
