"""Broker fixtures (RabbitMQ, a Kafka-compatible tansu broker); filled in by the broker listeners' issue."""
