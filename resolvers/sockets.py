"""What operations over a WebSocket need that HTTP requests get from the GraphQL app.

Over HTTP each request has a context of its own, and the app gives every error its public
shape in ``process_result``. A graphql-transport-ws socket has one context for all its
operations, and its results never pass through ``process_result``; so each operation gets
loaders of its own here (a subscription's events each get theirs as they come), and each
result streamed has its errors coded and masked as over HTTP.
"""

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult, StreamExecutionResult

from resolvers.context import Context
from resolvers.errors import to_graphql_error


class SocketOperations(SchemaExtension):
    def __init__(self, *, hide_suggestions: bool) -> None:
        super().__init__()
        self.hide_suggestions = hide_suggestions

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context) and context.connection_params is not None:
            context.new_event()
        yield

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        # Incremental delivery (@defer, @stream) is not served over the socket.
        if isinstance(result, ExecutionResult) and result.errors:
            hide = self.hide_suggestions
            result.errors = [to_graphql_error(error, hide_suggestions=hide) for error in result.errors]
        yield
