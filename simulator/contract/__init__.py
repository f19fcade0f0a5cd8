"""The contract: event types (a schema file plus its rules), schema validation and readable messages."""
