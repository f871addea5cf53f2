"""Where predictions are kept: the on-disk outbox, its owners and drainer, and Cosmos DB."""
