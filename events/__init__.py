"""Events: the versioned contracts (``schemas/``, ``contracts``, ``envelope``), each subgraph's
outbox and inbox (``store``), the relay to Kafka (``relay``), the consumer runner
(``consumer``), the worker that runs both (``worker``) and the operator's tools
(``operations``). Subgraphs write events through ``EventStore.emit`` and consume them through
handlers the worker calls."""
