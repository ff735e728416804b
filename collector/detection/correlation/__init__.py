"""Sigma correlation rules (specification 2.1) evaluated over a stream of base-rule matches.

Flow: :func:`compile_correlations` turns pySigma ``SigmaCorrelationRule`` objects into a
:class:`CorrelationSet`; each base-rule match becomes a :class:`CorrelationInput` per correlation it feeds
(:func:`to_input`), keyed for repartitioning by :func:`routing_key`; a :class:`CorrelationTracker` consumes
inputs and returns :class:`CorrelationMatch` es with deterministic ids. In one process,
``CorrelationTracker.observe`` does all of it.

Field names: group-by and condition fields are read from the decoded (nested ECS) event. Rules may name
them as Sigma does (``User``): pass a :class:`PipelineFieldResolver` built from the same processing
pipeline as the base rules, and each name is mapped per base rule, with that rule's log source. Names the
pipeline does not map (``source.ip``) are used as they are, so already-mapped names work with any resolver.
"""

from collector.detection.correlation.compiled import (
    BaseRuleFeed,
    CompiledCorrelation,
    CorrelationCompileError,
    CorrelationKind,
    CorrelationSet,
    compile_correlation,
    compile_correlations,
)
from collector.detection.correlation.fields import FieldResolver, IdentityFieldResolver, PipelineFieldResolver
from collector.detection.correlation.match import CorrelationMatch, match_id
from collector.detection.correlation.record import (
    CorrelationInput,
    CorrelationInputError,
    decode_input,
    encode_input,
    inputs_from_match,
    match_input,
    record_routing_key,
    routing_key,
    to_input,
)
from collector.detection.correlation.tracker import CorrelationObserver, CorrelationTracker, TrackerStats

__all__ = [
    "BaseRuleFeed",
    "CompiledCorrelation",
    "CorrelationCompileError",
    "CorrelationInput",
    "CorrelationInputError",
    "CorrelationKind",
    "CorrelationMatch",
    "CorrelationObserver",
    "CorrelationSet",
    "CorrelationTracker",
    "FieldResolver",
    "IdentityFieldResolver",
    "PipelineFieldResolver",
    "TrackerStats",
    "compile_correlation",
    "compile_correlations",
    "decode_input",
    "encode_input",
    "inputs_from_match",
    "match_id",
    "match_input",
    "record_routing_key",
    "routing_key",
    "to_input",
]
