"""Redis and BullMQ for the sandbox: TLS, the server, the workers, the producer, the faults."""
