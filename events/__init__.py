"""Events: the versioned contracts, the transactional outbox and its relay to Kafka, and the
consumer runner. Empty until the events issue (#4) builds them; subgraphs import nothing
from here yet."""
