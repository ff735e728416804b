"""The Canh Gác agent: sensors on an agency server, a durable spool, and delivery to Kafka."""
