"""The Canh Gác collector: consumes agent events, evaluates Sigma rules, indexes alerts, serves the API."""
